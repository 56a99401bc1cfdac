const WORD = /[\p{L}\p{N}']+/gu

const words = (text: string) => text.match(WORD) ?? []

/**
 * Frequency-based extractive summary: sentences scored by how many of the text's frequent
 * content words they contain, the best kept in their original order within the word budget.
 */
export function extractiveSummary(text: string, maxWords: number): string {
  const segmenter = new Intl.Segmenter('en', { granularity: 'sentence' })
  const sentences = [...segmenter.segment(text.replace(/\s+/g, ' ').trim())]
    .map((s) => s.segment.trim())
    .filter(Boolean)
  // Words of three letters or fewer are mostly function words; skipping them avoids a stop-word list.
  // Only recurring words count: a word said once says little about what the text is about.
  const frequency = new Map<string, number>()
  for (const w of words(text)) {
    const key = w.toLowerCase()
    if (key.length > 3) frequency.set(key, (frequency.get(key) ?? 0) + 1)
  }
  for (const [key, count] of frequency) if (count < 2) frequency.delete(key)
  const scored = sentences.map((sentence, index) => {
    const ws = words(sentence)
    const score = ws.reduce((sum, w) => sum + (frequency.get(w.toLowerCase()) ?? 0), 0) / Math.sqrt(ws.length || 1)
    return { sentence, index, count: ws.length, score }
  })
  const chosen: typeof scored = []
  let budget = maxWords
  for (const s of [...scored].sort((a, b) => b.score - a.score || a.index - b.index)) {
    if (s.count <= budget && (s.score > 0 || !chosen.length)) {
      chosen.push(s)
      budget -= s.count
    }
  }
  if (!chosen.length && scored.length) {
    return `${scored[0].sentence.split(/\s+/).slice(0, maxWords).join(' ')}…`
  }
  return chosen
    .sort((a, b) => a.index - b.index)
    .map((s) => s.sentence)
    .join(' ')
}
