/**
 * The Fastify example API with trustgate's OpenTelemetry metrics exposed to Prometheus (the
 * OpenTelemetry SDK's MeterProvider, read by the Prometheus exporter, served at `GET /metrics`
 * on the API's own port) and the Kubernetes probes `GET /livez` and `GET /readyz`. trustgate records through the OpenTelemetry API only; which SDK and
 * exporter to use is the app's choice, made here.
 */
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus'
import { MeterProvider } from '@opentelemetry/sdk-metrics'
import { buildApp } from '../fastify/app.js'

/**
 * Builds the app (it does not listen).
 * @param {object} options
 * @param {import('@trustgate/fastify').FastifyJwtAuthOptions} options.auth trustgate's options
 * @param {import('pino').Logger | boolean} [options.logger]
 */
export async function buildMetricsApp({ auth, logger = true }) {
  // No server of its own: the exporter answers on the app's /metrics route.
  const exporter = new PrometheusExporter({ preventServerStart: true })
  const meterProvider = new MeterProvider({ readers: [exporter] })
  const app = await buildApp({ auth: { ...auth, metrics: { meterProvider } }, logger })

  // Kubernetes probes: liveness from the process alone (never the IdP), readiness from the
  // verifier's health(), which reads no network.
  app.get('/livez', async () => ({ ok: true }))
  app.get('/readyz', async (request, reply) => {
    const health = app.trustgate.health()
    return reply.code(health.ready ? 200 : 503).send(health)
  })

  app.get('/metrics', (request, reply) => {
    // The exporter writes the response itself, in the Prometheus text format.
    reply.hijack()
    exporter.getMetricsRequestHandler(request.raw, reply.raw)
  })
  app.addHook('onClose', () => meterProvider.shutdown())
  return app
}
