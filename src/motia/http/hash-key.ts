import { randomBytes } from 'node:crypto'
import { envKeyId, sha256Hex } from './auth'

/**
 * `npx tsx src/motia/http/hash-key.ts [key]` prints a keys-file entry for the key (a new random key
 * when none is given). Only the hash goes into the file; hand the key itself to the client.
 */
const given = process.argv[2]
const key = given ?? randomBytes(32).toString('base64url')
if (!given) console.error(`New API key (store it now, it is not kept anywhere): ${key}`)
console.log(`  - id: key-${envKeyId(key)}\n    sha256: ${sha256Hex(key)}`)
