/** Tables drawn as aligned monospace text: Telegram has no tables, and a `pre` block keeps the columns straight. */

export type Align = "left" | "right" | "center";

/** Width of a string in a monospace font: East Asian wide characters and emoji take two columns, marks none. */
export function displayWidth(s: string): number {
  let width = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f) || cp === 0xfe0f || cp === 0x20e3) continue;
    const wide =
      (cp >= 0x1100 && cp <= 0x115f) ||
      (cp >= 0x2e80 && cp <= 0xa4cf) ||
      (cp >= 0xac00 && cp <= 0xd7a3) ||
      (cp >= 0xf900 && cp <= 0xfaff) ||
      (cp >= 0xfe30 && cp <= 0xfe4f) ||
      (cp >= 0xff00 && cp <= 0xff60) ||
      (cp >= 0xffe0 && cp <= 0xffe6) ||
      (cp >= 0x1f300 && cp <= 0x1faff) ||
      (cp >= 0x20000 && cp <= 0x3fffd);
    width += wide ? 2 : 1;
  }
  return width;
}

/**
 * The header row, a `-+-` rule, then the body rows, columns padded to their widest cell and aligned as the delimiter
 * row asked; "" when every cell is empty.
 */
export function drawTable(rows: string[][], aligns: Align[]): string {
  const columns = Math.max(aligns.length, ...rows.map((r) => r.length));
  const widths: number[] = [];
  for (let c = 0; c < columns; c++) widths.push(Math.max(1, ...rows.map((r) => displayWidth(r[c] ?? ""))));
  const pad = (cell: string, c: number): string => {
    const gap = (widths[c] as number) - displayWidth(cell);
    const align = aligns[c] ?? "left";
    if (align === "right") return " ".repeat(gap) + cell;
    if (align === "center") return " ".repeat(Math.floor(gap / 2)) + cell + " ".repeat(gap - Math.floor(gap / 2));
    return cell + " ".repeat(gap);
  };
  const line = (r: string[]): string => widths.map((_, c) => pad(r[c] ?? "", c)).join(" | ").trimEnd();
  if (rows.every((r) => r.every((cell) => cell === ""))) return "";
  const [header = [], ...body] = rows;
  return [line(header), widths.map((w) => "-".repeat(w)).join("-+-"), ...body.map(line)].join("\n");
}
