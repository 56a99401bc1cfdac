/** Collects program output up to a byte cap and says how much was dropped. */
export class CappedText {
  private readonly parts: string[] = []
  private size = 0
  private dropped = 0

  constructor(private readonly capBytes: number) {}

  append(text: string) {
    const bytes = Buffer.byteLength(text)
    const room = this.capBytes - this.size
    if (bytes <= room) {
      this.parts.push(text)
      this.size += bytes
      return
    }
    if (room > 0) {
      const kept = Buffer.from(text).subarray(0, room).toString()
      this.parts.push(kept)
      this.size += room
    }
    this.dropped += bytes - Math.max(room, 0)
  }

  toString(): string {
    const text = this.parts.join('')
    return this.dropped ? `${text}\n[output truncated: ${this.dropped} more bytes]` : text
  }
}
