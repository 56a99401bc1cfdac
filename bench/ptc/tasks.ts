import { convert, order, products, reviews, weather } from './catalog-data'

/** One tool call of the baseline model: one per LLM turn. */
export interface ToolCall {
  tool: string
  arguments: Record<string, unknown>
}

export type BaselineMove = { call: ToolCall } | { answer: string }

/**
 * A benchmark task. `program` is what the scripted PTC model writes; `baseline` is the scripted
 * one-tool-per-turn model: given every tool result so far, its next call or its answer. Both reach
 * the same answer, which `expected` computes straight from the data as a check.
 */
export interface BenchTask {
  id: string
  prompt: string
  skills: string[]
  program: string
  baseline(results: unknown[]): BaselineMove
  expected(): string
}

type Review = { stars: number }
type Product = { id: string; name: string; price: number }
type Weather = { city: string; temp_c: number; hourly: { precipitation_mm: number }[] }
type Order = { items: { quantity: number; unit_price: number; currency: string }[] }

/** Calls in a fixed order, then an answer computed from all results: the shape of most baseline tasks. */
function sequence(calls: ToolCall[], answer: (results: unknown[]) => string) {
  return (results: unknown[]): BaselineMove =>
    results.length < calls.length ? { call: calls[results.length] } : { answer: answer(results) }
}

const firstMax = <T>(items: T[], score: (t: T) => number): T =>
  items.reduce((best, item) => (score(item) > score(best) ? item : best))

const CITIES = ['Paris', 'Berlin', 'Madrid', 'Rome', 'Oslo']
const warmest = (reports: Weather[]) => {
  const best = firstMax(reports, (r) => r.temp_c)
  return `Warmest: ${best.city} (${best.temp_c} °C)`
}

const RAIN_CITIES = ['London', 'Dublin', 'Bergen', 'Lisbon', 'Vienna', 'Prague']
const rainiest = (reports: Weather[]) => {
  const total = (r: Weather) => r.hourly.reduce((sum, h) => sum + h.precipitation_mm, 0)
  const best = firstMax(reports, total)
  return `Rainiest: ${best.city} (${total(best).toFixed(1)} mm in 24 h)`
}

const bestLaptop = (all: Product[], reviewLists: Review[][]) => {
  const cheap = all.filter((p) => p.price < 1000)
  const scored = cheap.map((p, i) => ({ p, total: reviewLists[i].reduce((s, r) => s + r.stars, 0) }))
  const best = firstMax(scored, (s) => s.total)
  return `${best.p.name} (${best.p.id}): ${best.total} stars over ${reviewLists[0].length} reviews, $${best.p.price}`
}

const REVIEW_IDS = ['LAP-101', 'LAP-105', 'LAP-110', 'PHO-102']
const mostOneStar = (lists: Review[][]) => {
  const counts = lists.map((l) => l.filter((r) => r.stars === 1).length)
  const i = counts.indexOf(Math.max(...counts))
  return `${REVIEW_IDS[i]} with ${counts[i]} one-star reviews`
}

const orderTotal = (converted: { amount: number }[]) =>
  `Order A17 total: ${converted.reduce((s, c) => s + c.amount, 0).toFixed(2)} EUR`

export const BENCH_TASKS: BenchTask[] = [
  {
    id: 'warmest-city',
    prompt: `Which of ${CITIES.join(', ')} is the warmest right now?`,
    skills: ['get-weather'],
    program: `reports = [get_weather(c) for c in ${JSON.stringify(CITIES)}]
best = reports[0]
for r in reports[1:]:
    if r["temp_c"] > best["temp_c"]:
        best = r
final_answer(f"Warmest: {best['city']} ({best['temp_c']} °C)")`,
    baseline: sequence(
      CITIES.map((city) => ({ tool: 'get-weather', arguments: { city } })),
      (r) => warmest(r as Weather[]),
    ),
    expected: () => warmest(CITIES.map(weather)),
  },
  {
    id: 'rainiest-city',
    prompt: `Which of ${RAIN_CITIES.join(', ')} gets the most rain over the next 24 hours?`,
    skills: ['get-weather'],
    program: `def rain(report):
    return sum(h["precipitation_mm"] for h in report["hourly"])
reports = [get_weather(c) for c in ${JSON.stringify(RAIN_CITIES)}]
best = reports[0]
for r in reports[1:]:
    if rain(r) > rain(best):
        best = r
final_answer(f"Rainiest: {best['city']} ({rain(best):.1f} mm in 24 h)")`,
    baseline: sequence(
      RAIN_CITIES.map((city) => ({ tool: 'get-weather', arguments: { city } })),
      (r) => rainiest(r as Weather[]),
    ),
    expected: () => rainiest(RAIN_CITIES.map(weather)),
  },
  {
    id: 'best-laptop',
    prompt: 'Which laptop under 1000 USD has the best customer reviews (most stars in total)?',
    skills: ['list-products', 'get-reviews'],
    program: `cheap = [p for p in list_products("laptops") if p["price"] < 1000]
best, best_total, n = None, -1, 0
for p in cheap:
    stars = [r["stars"] for r in get_reviews(p["id"])]
    n = len(stars)
    if sum(stars) > best_total:
        best, best_total = p, sum(stars)
final_answer(f"{best['name']} ({best['id']}): {best_total} stars over {n} reviews, \${best['price']}")`,
    baseline: (results) => {
      if (results.length === 0) return { call: { tool: 'list-products', arguments: { category: 'laptops' } } }
      const cheap = (results[0] as Product[]).filter((p) => p.price < 1000)
      const done = results.length - 1
      if (done < cheap.length) return { call: { tool: 'get-reviews', arguments: { product_id: cheap[done].id } } }
      return { answer: bestLaptop(results[0] as Product[], results.slice(1) as Review[][]) }
    },
    expected: () => {
      const all = products('laptops')
      return bestLaptop(
        all,
        all.filter((p) => p.price < 1000).map((p) => reviews(p.id)),
      )
    },
  },
  {
    id: 'most-one-star',
    prompt: `Which of the products ${REVIEW_IDS.join(', ')} has the most 1-star reviews?`,
    skills: ['get-reviews'],
    program: `ids = ${JSON.stringify(REVIEW_IDS)}
counts = [sum(1 for r in get_reviews(pid) if r["stars"] == 1) for pid in ids]
i = counts.index(max(counts))
final_answer(f"{ids[i]} with {counts[i]} one-star reviews")`,
    baseline: sequence(
      REVIEW_IDS.map((product_id) => ({ tool: 'get-reviews', arguments: { product_id } })),
      (r) => mostOneStar(r as Review[][]),
    ),
    expected: () => mostOneStar(REVIEW_IDS.map(reviews)),
  },
  {
    id: 'order-total-eur',
    prompt: 'What is the total of order A17 in EUR?',
    skills: ['get-order', 'convert-currency'],
    program: `o = get_order("A17")
total = 0
for item in o["items"]:
    total += convert_currency(item["unit_price"] * item["quantity"], item["currency"], "EUR")["amount"]
final_answer(f"Order A17 total: {total:.2f} EUR")`,
    baseline: (results) => {
      if (results.length === 0) return { call: { tool: 'get-order', arguments: { order_id: 'A17' } } }
      const o = results[0] as Order
      const done = results.length - 1
      if (done < o.items.length) {
        const item = o.items[done]
        const args = { amount: item.unit_price * item.quantity, from_currency: item.currency, to_currency: 'EUR' }
        return { call: { tool: 'convert-currency', arguments: args } }
      }
      return { answer: orderTotal(results.slice(1) as { amount: number }[]) }
    },
    expected: () => {
      const o = order('A17')
      return orderTotal(o.items.map((i) => convert(i.unit_price * i.quantity, i.currency, 'EUR')))
    },
  },
]
