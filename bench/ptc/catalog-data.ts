/**
 * Deterministic fake backend data for the benchmark skills: sizes resemble real APIs (hourly
 * forecasts, product descriptions, review texts), so results are large the way real ones are.
 */

function seeded(seed: string): () => number {
  let h = 2166136261
  for (const ch of seed) h = Math.imul(h ^ ch.charCodeAt(0), 16777619)
  return () => {
    h = Math.imul(h ^ (h >>> 15), 2246822507)
    h = Math.imul(h ^ (h >>> 13), 3266489909)
    h ^= h >>> 16
    return (h >>> 0) / 4294967296
  }
}

const WORDS =
  'reliable fast quiet sturdy bright compact light premium value battery screen keyboard sound build warranty support design display performance cooling'.split(
    ' ',
  )

function sentence(rand: () => number, words: number): string {
  return Array.from({ length: words }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ')
}

export function weather(city: string) {
  const rand = seeded(`weather:${city.toLowerCase()}`)
  const base = Math.round(rand() * 30 - 2)
  return {
    city,
    temp_c: base,
    condition: ['sunny', 'cloudy', 'rain', 'windy'][Math.floor(rand() * 4)],
    hourly: Array.from({ length: 24 }, (_, hour) => ({
      hour,
      temp_c: base + Math.round(rand() * 6 - 3),
      precipitation_mm: Math.round(rand() * 40) / 10,
      wind_kph: Math.round(rand() * 30),
    })),
  }
}

export function products(category: string) {
  const rand = seeded(`products:${category.toLowerCase()}`)
  return Array.from({ length: 30 }, (_, i) => ({
    id: `${category.slice(0, 3).toUpperCase()}-${100 + i}`,
    name: `${category} model ${String.fromCharCode(65 + (i % 26))}${i}`,
    price: Math.round(400 + rand() * 1400),
    description: sentence(rand, 30),
  }))
}

export function reviews(productId: string) {
  const rand = seeded(`reviews:${productId}`)
  return Array.from({ length: 12 }, (_, i) => ({
    id: `${productId}-r${i}`,
    stars: 1 + Math.floor(rand() * 5),
    text: sentence(rand, 25),
  }))
}

export function order(orderId: string) {
  const rand = seeded(`order:${orderId}`)
  const currencies = ['USD', 'GBP', 'JPY']
  return {
    id: orderId,
    customer: { name: 'Ada Example', address: sentence(rand, 8), notes: sentence(rand, 20) },
    items: Array.from({ length: 4 }, (_, i) => ({
      sku: `SKU-${Math.floor(rand() * 9000) + 1000}`,
      description: sentence(rand, 15),
      quantity: 1 + Math.floor(rand() * 3),
      unit_price: Math.round(rand() * 20000) / 100,
      currency: currencies[i % currencies.length],
    })),
  }
}

const RATES_TO_EUR: Record<string, number> = { EUR: 1, USD: 0.92, GBP: 1.17, JPY: 0.0062 }

export function convert(amount: number, from: string, to: string) {
  const rate = RATES_TO_EUR[from.toUpperCase()] / RATES_TO_EUR[to.toUpperCase()]
  if (!Number.isFinite(rate)) throw new Error(`unknown currency pair ${from}->${to}`)
  return { amount: Math.round(amount * rate * 100) / 100, rate, from, to }
}
