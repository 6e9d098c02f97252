/** The fields of an e-commerce event that the metrics read (values as the CSV had them: strings). */
export interface ShopEvent {
  readonly event_time?: string;
  readonly event_type?: string;
  readonly brand?: string;
  readonly user_session?: string;
}

/** Running metrics: pure data, updated by {@link addEvent}. */
export interface Metrics {
  readonly events: number;
  /** Event-time minute (`YYYY-MM-DD HH:MM`) → event type → count; only the latest minutes are kept. */
  readonly perMinute: ReadonlyMap<string, ReadonlyMap<string, number>>;
  readonly perType: ReadonlyMap<string, number>;
  readonly perBrand: ReadonlyMap<string, number>;
  /** Sessions that reached each funnel step. */
  readonly funnel: { readonly view: number; readonly cart: number; readonly purchase: number };
  readonly sessionSteps: ReadonlyMap<string, number>;
}

const STEP = { view: 1, cart: 2, purchase: 4 } as const;

/** No events yet. */
export function emptyMetrics(): Metrics {
  return {
    events: 0,
    perMinute: new Map(),
    perType: new Map(),
    perBrand: new Map(),
    funnel: { view: 0, cart: 0, purchase: 0 },
    sessionSteps: new Map(),
  };
}

function bump<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/**
 * Adds one event. Mutates and returns `metrics` (an RxJS `scan` accumulator: copying maps for every
 * event would cost more than the metrics are worth). Keeps the latest `keepMinutes` minutes.
 */
export function addEvent(metrics: Metrics, event: ShopEvent, keepMinutes = 5): Metrics {
  const type = event.event_type || 'other';
  const perType = metrics.perType as Map<string, number>;
  const perBrand = metrics.perBrand as Map<string, number>;
  const perMinute = metrics.perMinute as Map<string, Map<string, number>>;
  const sessions = metrics.sessionSteps as Map<string, number>;
  bump(perType, type);
  if (event.brand) bump(perBrand, event.brand);

  const minute = event.event_time?.slice(0, 16);
  if (minute) {
    let types = perMinute.get(minute);
    if (!types) {
      types = new Map();
      perMinute.set(minute, types);
      if (perMinute.size > keepMinutes) perMinute.delete([...perMinute.keys()].sort()[0]!);
    }
    bump(types, type);
  }

  let funnel = metrics.funnel;
  const step = STEP[type as keyof typeof STEP];
  if (step !== undefined && event.user_session) {
    const before = sessions.get(event.user_session) ?? 0;
    if ((before & step) === 0) {
      sessions.set(event.user_session, before | step);
      funnel = { ...funnel, [type]: funnel[type as keyof typeof STEP] + 1 };
    }
  }
  return Object.assign(metrics, { events: metrics.events + 1, funnel });
}

/** The `count` entries with the highest values, ties by key. */
export function top(map: ReadonlyMap<string, number>, count: number): [string, number][] {
  return [...map].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, count);
}

const percent = (part: number, whole: number) =>
  whole === 0 ? '—' : `${((100 * part) / whole).toFixed(1)}%`;

/** The table the app prints. */
export function renderMetrics(metrics: Metrics): string {
  const types = ['view', 'cart', 'purchase', 'remove_from_cart'];
  const lines = [`live metrics: ${metrics.events} events, ${metrics.sessionSteps.size} sessions`, ''];
  lines.push('events per type per minute (event time, UTC)');
  lines.push(`  ${'minute'.padEnd(17)}${types.map((t) => t.padStart(18)).join('')}`);
  for (const minute of [...metrics.perMinute.keys()].sort()) {
    const counts = metrics.perMinute.get(minute)!;
    lines.push(`  ${minute.padEnd(17)}${types.map((t) => String(counts.get(t) ?? 0).padStart(18)).join('')}`);
  }
  lines.push('', 'top brands');
  for (const [brand, n] of top(metrics.perBrand, 5))
    lines.push(`  brand ${brand.padEnd(16)} ${String(n).padStart(6)}`);
  const { view, cart, purchase } = metrics.funnel;
  lines.push(
    '',
    // Rates of sessions that viewed: a session may buy without a cart event in the window seen.
    `conversion (sessions): view ${view} -> cart ${cart} (${percent(cart, view)}) -> purchase ${purchase} (${percent(purchase, view)})`,
    `totals: ${top(metrics.perType, 10)
      .map(([type, n]) => `${type} ${n}`)
      .join(', ')}`,
  );
  return lines.join('\n');
}
