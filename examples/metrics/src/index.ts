export { startMetricsService } from './service.js'
export type { MetricsService, MetricsServiceOptions } from './service.js'
