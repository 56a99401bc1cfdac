import { isAbsolute, resolve } from 'node:path'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js'
import type { Tool } from '@modelcontextprotocol/sdk/types.js'
import { AppError } from '../config/errors'
import type { McpConfig, McpServerConfig } from './config'
import { describeSkill, type LoadedSkill } from './loaded-skill'
import type { JsonSchema } from './parameters'
import type { SkillLoadError } from './types'

export interface McpLoadOptions {
  configFile: string
  rootDir: string
  /** Values for `${VAR}` references in a server's env and headers. */
  env: Record<string, string | undefined>
}

export interface McpConnection {
  server: string
  client: Client
  skills: LoadedSkill[]
}

export interface McpLoadResult {
  connections: McpConnection[]
  errors: SkillLoadError[]
}

/** Connects every enabled server in parallel; each tool becomes the skill `<server>__<tool>`. */
export async function connectMcpServers(config: McpConfig, options: McpLoadOptions): Promise<McpLoadResult> {
  const entries = Object.entries(config.mcpServers).filter(([, server]) => !server.disabled)
  const settled = await Promise.all(entries.map(([name, server]) => connectServer(name, server, options)))
  return {
    connections: settled.flatMap((r) => (r.connection ? [r.connection] : [])),
    errors: settled.flatMap((r) => r.errors),
  }
}

async function connectServer(
  name: string,
  server: McpServerConfig,
  options: McpLoadOptions,
): Promise<{ connection?: McpConnection; errors: SkillLoadError[] }> {
  const client = new Client({ name: 'motia-agent-system', version: '0.1.0' })
  const transport = createTransport(server, options)
  const fail = (problem: string) => ({ errors: [{ skill: name, file: options.configFile, problem }] })
  try {
    await client.connect(transport, { timeout: server.startupTimeoutMs })
    const tools = await listAllTools(client, server.startupTimeoutMs)
    const skills: LoadedSkill[] = []
    const errors: SkillLoadError[] = []
    for (const tool of tools) {
      try {
        skills.push(toolSkill(name, tool, client, server.timeoutMs))
      } catch (err) {
        errors.push({
          skill: `${name}__${tool.name}`,
          file: options.configFile,
          problem: `MCP server '${name}' tool '${tool.name}': unusable input schema: ${(err as Error).message}`,
        })
      }
    }
    return { connection: { server: name, client, skills }, errors }
  } catch (err) {
    await client.close().catch(() => {})
    return fail(`MCP server '${name}' did not start: ${(err as Error).message.split('\n')[0]}`)
  }
}

function createTransport(server: McpServerConfig, options: McpLoadOptions): Transport {
  const expand = (values: Record<string, string>) =>
    Object.fromEntries(
      Object.entries(values).map(([k, v]) => [k, v.replace(/\$\{(\w+)\}/g, (_, name) => options.env[name] ?? '')]),
    )
  if ('url' in server) {
    return new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers: expand(server.headers) } })
  }
  const cwd = server.cwd
    ? isAbsolute(server.cwd)
      ? server.cwd
      : resolve(options.rootDir, server.cwd)
    : options.rootDir
  // stderr is piped and dropped so a chatty server does not flood the service log.
  const transport = new StdioClientTransport({
    command: server.command,
    args: server.args,
    env: expand(server.env),
    cwd,
    stderr: 'pipe',
  })
  transport.stderr?.on('data', () => {})
  return transport
}

async function listAllTools(client: Client, timeout: number): Promise<Tool[]> {
  const tools: Tool[] = []
  let cursor: string | undefined
  do {
    const page = await client.listTools(cursor ? { cursor } : {}, { timeout })
    tools.push(...page.tools)
    cursor = page.nextCursor
  } while (cursor)
  return tools
}

function toolSkill(server: string, tool: Tool, client: Client, timeoutMs: number): LoadedSkill {
  const { info, bind } = describeSkill({
    name: `${server}__${tool.name}`,
    description: tool.description ?? tool.title ?? `MCP tool ${tool.name}`,
    parameters: tool.inputSchema as JsonSchema,
    returns: tool.outputSchema ? 'dict' : 'Any',
    timeoutMs,
    kind: 'mcp',
    guide: `Tool \`${tool.name}\` of the MCP server \`${server}\`.`,
  })
  return {
    info,
    bind,
    env: {},
    settings: {},
    run: async (args, ctx) => {
      const result = await client.callTool({ name: tool.name, arguments: args }, undefined, {
        signal: ctx.signal,
        timeout: timeoutMs,
      })
      return toolResultValue(result as ToolResult, info.pythonName)
    },
    // The connection is shared by all tools of a server and closed by the registry.
    close: () => {},
  }
}

interface ToolResult {
  content?: { type: string; text?: string; [key: string]: unknown }[]
  structuredContent?: unknown
  isError?: boolean
}

/** Structured content when the tool gives it; otherwise its text (one string) or the content list. */
function toolResultValue(result: ToolResult, pythonName: string): unknown {
  const content = result.content ?? []
  const text = content
    .filter((c) => c.type === 'text')
    .map((c) => c.text ?? '')
    .join('\n')
  if (result.isError) throw new AppError('skill_failed', `${pythonName}(): ${text || 'the MCP tool reported an error'}`)
  if (result.structuredContent !== undefined) return result.structuredContent
  if (content.every((c) => c.type === 'text')) return text
  return content
}
