// Loaded with `node --import` (NODE_OPTIONS) before a Shardline command: installs the global
// OpenTelemetry meter provider, which the s3-sink and consumer-core create their instruments on, and
// exports them every SHARDLINE_METRICS_INTERVAL_MS (default 60000) as CloudWatch EMF lines on stdout,
// in the namespace SHARDLINE_METRICS_NAMESPACE (default 'Shardline'). The last interval is exported
// when the process has finished its work (`beforeExit`, after a graceful stop).
import { metrics } from '@opentelemetry/api';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { CloudWatchEmfExporter } from './CloudWatchEmfExporter.js';

const intervalMs = Number(process.env.SHARDLINE_METRICS_INTERVAL_MS ?? 60_000);
const provider = new MeterProvider({
  readers: [
    new PeriodicExportingMetricReader({
      exporter: new CloudWatchEmfExporter({
        namespace: process.env.SHARDLINE_METRICS_NAMESPACE ?? 'Shardline',
        write: (line) => process.stdout.write(line),
      }),
      exportIntervalMillis: Number.isInteger(intervalMs) && intervalMs >= 1_000 ? intervalMs : 60_000,
    }),
  ],
});
metrics.setGlobalMeterProvider(provider);
let isShutDown = false;
process.on('beforeExit', () => {
  if (isShutDown) return;
  isShutDown = true;
  void provider.shutdown();
});
