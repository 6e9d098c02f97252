// OpenTelemetry units are UCUM strings (`ms`, `By`, `{record}`); CloudWatch takes one of a fixed list.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDatum.html (Unit)

/** The CloudWatch units this package emits. */
export const CloudWatchUnit = {
  Count: 'Count',
  Milliseconds: 'Milliseconds',
  Microseconds: 'Microseconds',
  Seconds: 'Seconds',
  Bytes: 'Bytes',
  BytesPerSecond: 'Bytes/Second',
  CountPerSecond: 'Count/Second',
  Percent: 'Percent',
  None: 'None',
} as const;
/** A CloudWatch unit. */
export type CloudWatchUnit = (typeof CloudWatchUnit)[keyof typeof CloudWatchUnit];

const BY_UCUM: Readonly<Record<string, CloudWatchUnit>> = {
  '': CloudWatchUnit.Count,
  '1': CloudWatchUnit.Count,
  ms: CloudWatchUnit.Milliseconds,
  us: CloudWatchUnit.Microseconds,
  s: CloudWatchUnit.Seconds,
  By: CloudWatchUnit.Bytes,
  'By/s': CloudWatchUnit.BytesPerSecond,
  '%': CloudWatchUnit.Percent,
};

/**
 * The CloudWatch unit of an OpenTelemetry unit: annotations (`{record}`, `{lease}`) are counts, `/s` of
 * an annotation a rate; anything else CloudWatch does not know is `None`.
 */
export function cloudWatchUnit(otelUnit: string): CloudWatchUnit {
  const known = BY_UCUM[otelUnit];
  if (known !== undefined) return known;
  if (/^\{[^}]*\}$/.test(otelUnit)) return CloudWatchUnit.Count;
  if (/^\{[^}]*\}\/s$/.test(otelUnit)) return CloudWatchUnit.CountPerSecond;
  return CloudWatchUnit.None;
}
