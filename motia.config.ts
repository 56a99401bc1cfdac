import bullmqPlugin from '@motiadev/plugin-bullmq/plugin'
import endpointPlugin from '@motiadev/plugin-endpoint/plugin'
import logsPlugin from '@motiadev/plugin-logs/plugin'
import observabilityPlugin from '@motiadev/plugin-observability/plugin'
import statesPlugin from '@motiadev/plugin-states/plugin'
import { config } from 'motia'
import { resolveRedisConfig } from './src/config/redis'
import { agentPlugin, configureExpress } from './src/motia/plugin'

export default config({
  plugins: [observabilityPlugin, statesPlugin, endpointPlugin, logsPlugin, bullmqPlugin, agentPlugin],
  app: configureExpress,
  redis: resolveRedisConfig(),
})
