import { describe, expect, it } from "vitest";
import type { MessageEntity } from "grammy/types";
import type { FormattedText } from "./formatted-text.js";
import { checkEntities, isAllowedLinkUrl } from "./entity-check.js";
import { markdownToEntities } from "./markdown.js";
import { rng } from "../../test/helpers/random.js";

/** Entities as [type, covered text] pairs: what a reader sees. */
function spans(ft: FormattedText): [string, string][] {
  return ft.entities.map((e) => [e.type, ft.text.slice(e.offset, e.offset + e.length)]);
}

function convert(markdown: string, partial = false): FormattedText {
  const ft = markdownToEntities(markdown, { partial });
  expect(checkEntities(ft), `${JSON.stringify(markdown)} → ${JSON.stringify(ft)}`).toBeNull();
  return ft;
}

const ANSWER_EN = `# Sorting in TypeScript

Here is a **quick overview** of how to sort arrays in *TypeScript*, with a few _gotchas_.

## The basics

1. Call \`array.sort()\` — it sorts **in place**.
2. Pass a comparator: \`(a, b) => a - b\` for numbers.
   - Nested note: \`localeCompare\` for strings.
   - Another **nested** item with a [link](https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Global_Objects/Array/sort).

\`\`\`typescript
const xs = [3, 1, 2];
xs.sort((a, b) => a - b); // <>&_*[] stay literal
console.log(xs.map((x) => x * 2));
\`\`\`

> **Note:** \`sort\` is *stable* since ES2019.
> It compares strings by UTF-16 code units.

| Method | Stable | Cost |
|:-------|:------:|-----:|
| \`sort\` | yes | O(n log n) |
| **toSorted** | yes | O(n) extra |

- [x] Learn \`sort\`
- [ ] Try ~~bubble sort~~ ||never||

---

That's it! See <https://tc39.es> for the spec, and snake_case_names stay as they are: 2*3*4.`;

const ANSWER_ZH = `## 结论 😀

这是**粗体**文字，**加粗：**后面紧跟文字，还有*斜体*和\`行内代码\`。

- 第一点：使用 \`npm ci\` 安装依赖
- 第二点：[文档](https://example.com/文档?a=1&b=2)

\`\`\`python
def 你好(x):
    return x ** 2  # 注释 *不是* 斜体
\`\`\`

最后一段，包含 emoji 👩‍💻 与 ~~删除线~~。`;

const ANSWER_MIXED = `Sure! Here's the plan:

* **Step 1** — read the *config* (see \`config.ts\`)
* **Step 2** — run:

~~~bash
npm run build && npm start
~~~

### Edge cases
Some text with a trailing backslash escape \\* and a <br> break, plus an image ![alt](https://x.org/a.png).

> Quote with a [link **bold**](https://example.com)
>
> and a second paragraph

Final line with \`\`double \` backticks\`\` and ***both*** styles.`;

const ANSWERS = [ANSWER_EN, ANSWER_ZH, ANSWER_MIXED];

describe("markdownToEntities: constructs", () => {
  it("turns headings into bold lines of their own", () => {
    const ft = convert("# Title\nText under it\n\n###### Small ###");
    expect(ft.text).toBe("Title\nText under it\n\nSmall");
    expect(spans(ft)).toEqual([
      ["bold", "Title"],
      ["bold", "Small"],
    ]);
  });

  it("does not take #hashtag or #5 for a heading", () => {
    expect(convert("#hashtag here").text).toBe("#hashtag here");
  });

  it("supports ** and __ bold, * and _ italic, *** bold italic", () => {
    const ft = convert("**a** __b__ *c* _d_ ***e***");
    expect(ft.text).toBe("a b c d e");
    expect(spans(ft)).toEqual([
      ["bold", "a"],
      ["bold", "b"],
      ["italic", "c"],
      ["italic", "d"],
      ["bold", "e"],
      ["italic", "e"],
    ]);
  });

  it("keeps snake_case_names, 2*3*4 and a * b literal", () => {
    const src = "snake_case_names, 2*3*4 and a * b and __init__.py? x_y_z";
    const ft = convert(src);
    expect(ft.text).toBe("snake_case_names, 2*3*4 and a * b and init.py? x_y_z");
    expect(spans(ft)).toEqual([["bold", "init"]]);
  });

  it("lets ** close after punctuation (chat-model style) and works intraword", () => {
    const ft = convert("**Note:**text, **加粗：**文字, un**believ**able");
    expect(ft.text).toBe("Note:text, 加粗：文字, unbelievable");
    expect(spans(ft)).toEqual([
      ["bold", "Note:"],
      ["bold", "加粗："],
      ["bold", "believ"],
    ]);
  });

  it("supports ~~strike~~ and ||spoiler|| but not a single ~ or a || b", () => {
    const ft = convert("~~old~~ ||secret|| ~5 min, a || b");
    expect(ft.text).toBe("old secret ~5 min, a || b");
    expect(spans(ft)).toEqual([
      ["strikethrough", "old"],
      ["spoiler", "secret"],
    ]);
  });

  it("supports inline code with single and double backticks, never interpreting its content", () => {
    const ft = convert("Use `a_b*c*[d](e)<br>` and ``x ` y`` and `` `tick` ``.");
    expect(ft.text).toBe("Use a_b*c*[d](e)<br> and x ` y and `tick`.");
    expect(spans(ft)).toEqual([
      ["code", "a_b*c*[d](e)<br>"],
      ["code", "x ` y"],
      ["code", "`tick`"],
    ]);
  });

  it("keeps unmatched markers literal in the final text", () => {
    const ft = convert("a **b and `c and [d and ~~e");
    expect(ft.text).toBe("a **b and `c and [d and ~~e");
    expect(ft.entities).toEqual([]);
  });

  it("turns fenced code into pre with its language, verbatim", () => {
    const src = "Before\n```ts title=x\nif (a < b && c > d) { x_y = *p; arr[0] = `s`; }\n  indented **not bold**\n```\nAfter";
    const ft = convert(src);
    const code = "if (a < b && c > d) { x_y = *p; arr[0] = `s`; }\n  indented **not bold**";
    expect(ft.text).toBe(`Before\n${code}\nAfter`);
    expect(ft.entities).toEqual([{ type: "pre", offset: 7, length: code.length, language: "ts" }]);
  });

  it("supports ~~~ fences, fences without language, and longer closing fences", () => {
    const ft = convert("~~~\n<b>&amp;</b>\n~~~~\n\n````\n```\ninner\n```\n````");
    expect(ft.text).toBe("<b>&amp;</b>\n\n```\ninner\n```");
    expect(ft.entities).toEqual([
      { type: "pre", offset: 0, length: 12 },
      { type: "pre", offset: 14, length: 13 },
    ]);
  });

  it("runs an unclosed fence to the end (final text too)", () => {
    const ft = convert("Text\n```js\nlet a = 1;\nlet b = '**';");
    expect(spans(ft)).toEqual([["pre", "let a = 1;\nlet b = '**';"]]);
    expect(ft.entities[0]).toMatchObject({ language: "js" });
  });

  it("makes text_link only for http, https, tg and mailto URLs, with an optional title; <…> URLs may hold spaces", () => {
    const ft = convert(
      '[a](https://a.example/x_(y)) [b](http://b.example "Title") [c](tg://resolve?domain=x) ' +
        "[d](mailto:me@example.com) [e](javascript:alert(1)) [f](ftp://x) [g](<https://g.example/a b>)",
    );
    expect(ft.text).toBe("a b c d e f g");
    expect(ft.entities).toEqual([
      { type: "text_link", offset: 0, length: 1, url: "https://a.example/x_(y)" },
      { type: "text_link", offset: 2, length: 1, url: "http://b.example" },
      { type: "text_link", offset: 4, length: 1, url: "tg://resolve?domain=x" },
      { type: "text_link", offset: 6, length: 1, url: "mailto:me@example.com" },
      { type: "text_link", offset: 12, length: 1, url: "https://g.example/a%20b" },
    ]);
  });

  it("leaves [text] without a destination as it is and unwraps <autolinks>", () => {
    const ft = convert("See [1] and <https://example.com/a_b> or <me@example.com>.");
    expect(ft.text).toBe("See [1] and https://example.com/a_b or me@example.com.");
    expect(ft.entities).toEqual([]);
  });

  it("does not read markup inside bare URLs", () => {
    const ft = convert("Open https://example.com/some_path_here/*x* now, **https://b.example/c_d**.");
    expect(ft.text).toBe("Open https://example.com/some_path_here/*x* now, https://b.example/c_d.");
    expect(spans(ft)).toEqual([["bold", "https://b.example/c_d"]]);
  });

  it("turns > lines into one blockquote, flattening nested quotes", () => {
    const ft = convert("Intro\n> line **one**\n>> nested\n> - item\n\nOutside");
    expect(ft.text).toBe("Intro\nline one\nnested\n• item\n\nOutside");
    expect(spans(ft)).toEqual([
      ["blockquote", "line one\nnested\n• item"],
      ["bold", "one"],
    ]);
  });

  it("renders lists: bullets, nesting by indentation, ordered, task lists", () => {
    const ft = convert("- a\n  - b\n    * c\n+ d\n1. one\n2) two\n- [ ] todo\n- [x] done\n* **bold** item");
    expect(ft.text).toBe("• a\n  • b\n    • c\n• d\n1. one\n2) two\n☐ todo\n☑ done\n• bold item");
    expect(spans(ft)).toEqual([["bold", "bold"]]);
  });

  it("keeps emphasis from crossing list items", () => {
    const ft = convert("- **a\n- b**");
    expect(ft.text).toBe("• **a\n• b**");
    expect(ft.entities).toEqual([]);
  });

  it("lets inline markup span the lines of one paragraph", () => {
    const ft = convert("**bold\nstill bold**");
    expect(spans(ft)).toEqual([["bold", "bold\nstill bold"]]);
  });

  it("draws horizontal rules", () => {
    expect(convert("a\n\n---\n\n* * *\n\n___\nb").text).toBe("a\n\n──────────\n\n──────────\n\n──────────\nb");
  });

  it("renders a pipe table as an aligned pre block without inline markup", () => {
    const src = "| Name | Qty | Note |\n|:-----|----:|:----:|\n| **Apple** | 3 | `fresh` |\n| 香蕉 | 12 | [link](https://x.org) |\n| a \\| b | 1 |";
    const ft = convert(`Table:\n\n${src}\n\nAfter.`);
    const table = ["Name  | Qty | Note", "------+-----+------", "Apple |   3 | fresh", "香蕉  |  12 | link", "a | b |   1 |"];
    expect(ft.text).toBe(`Table:\n\n${table.join("\n")}\n\nAfter.`);
    expect(spans(ft)).toEqual([["pre", table.join("\n")]]);
  });

  it("drops the spaces around <br>", () => {
    expect(convert("one <br> two<br>  three").text).toBe("one\ntwo\nthree");
  });

  it("handles backslash escapes and <br>", () => {
    const ft = convert("\\*not italic\\* \\_x\\_ \\`y\\` \\\\ a<br>b<br/>c<BR />d");
    expect(ft.text).toBe("*not italic* _x_ `y` \\ a\nb\nc\nd");
    expect(ft.entities).toEqual([]);
  });

  it("collapses runs of blank lines and trims the ends", () => {
    expect(convert("\n\n  a\n\n\n\n\nb\n \n \nc  \n\n\n").text).toBe("a\n\nb\n\nc");
  });

  it("keeps blank lines inside code blocks", () => {
    const ft = convert("```\na\n\n\n\nb\n```");
    expect(ft.text).toBe("a\n\n\n\nb");
  });

  it("counts offsets in UTF-16 units after emoji and CJK", () => {
    const ft = convert("😀👩‍💻 中文 **粗体** `代码` 𝒳 *it*");
    expect(ft.text).toBe("😀👩‍💻 中文 粗体 代码 𝒳 it");
    expect(ft.entities).toEqual([
      { type: "bold", offset: 11, length: 2 },
      { type: "code", offset: 14, length: 2 },
      { type: "italic", offset: 20, length: 2 },
    ]);
    expect(spans(ft)).toEqual([
      ["bold", "粗体"],
      ["code", "代码"],
      ["italic", "it"],
    ]);
  });

  it("nests bold, italic, strike and links", () => {
    const ft = convert("**bold *italic [link ~~s~~](https://a.example)* end**");
    expect(ft.text).toBe("bold italic link s end");
    expect(spans(ft)).toEqual([
      ["bold", "bold italic link s end"],
      ["italic", "italic link s"],
      ["text_link", "link s"],
      ["strikethrough", "s"],
    ]);
  });

  it("puts code inside bold but nothing inside code", () => {
    const ft = convert("**run `npm *ci*`**");
    expect(spans(ft)).toEqual([
      ["bold", "run npm *ci*"],
      ["code", "npm *ci*"],
    ]);
  });

  it("does not nest a bold heading in bold", () => {
    const ft = convert("## The **big** idea");
    expect(spans(ft)).toEqual([["bold", "The big idea"]]);
  });

  it("renders realistic answers without any markup left over", () => {
    for (const answer of ANSWERS) {
      const ft = convert(answer);
      const outsideCode = removeRanges(ft, ["code", "pre"]);
      expect(outsideCode).not.toMatch(/\*\*|__|~~|\|\||```|\]\(/);
    }
  });

  it("renders the English answer as expected", () => {
    const ft = convert(ANSWER_EN);
    const seen = spans(ft);
    expect(seen).toContainEqual(["pre", 'const xs = [3, 1, 2];\nxs.sort((a, b) => a - b); // <>&_*[] stay literal\nconsole.log(xs.map((x) => x * 2));']);
    expect(ft.entities.find((e) => e.type === "pre")).toMatchObject({ language: "typescript" });
    expect(seen).toContainEqual(["blockquote", "Note: sort is stable since ES2019.\nIt compares strings by UTF-16 code units."]);
    expect(seen).toContainEqual(["strikethrough", "bubble sort"]);
    expect(seen).toContainEqual(["spoiler", "never"]);
    expect(ft.text).toContain("☑ Learn sort\n☐ Try bubble sort never");
    expect(ft.text).toContain("snake_case_names stay as they are: 2*3*4.");
    expect(ft.text).toContain("See https://tc39.es for the spec");
  });
});

describe("markdownToEntities: what the hand-written reader got wrong (issue 10)", () => {
  it("keeps a fenced block inside a list item, or on its marker line, inside that item", () => {
    const ft = convert("1. Install:\n   ```bash\n   npm ci\n   ```\n2. Run:\n- ```sh\n  npm start\n  ```\n- **done**");
    expect(ft.text).toBe("1. Install:\nnpm ci\n2. Run:\n• npm start\n• done");
    expect(spans(ft)).toEqual([
      ["pre", "npm ci"],
      ["pre", "npm start"],
      ["bold", "done"],
    ]);
    expect(ft.entities[0]).toMatchObject({ language: "bash" });
  });

  it("keeps a fence inside a block quote a code block, line breaks and all", () => {
    const ft = convert("> Run:\n> ```js\n> let a = 1;\n> let b = 2;\n> ```\n> Done.");
    expect(ft.text).toBe("Run:\nlet a = 1;\nlet b = 2;\nDone.");
    expect(spans(ft)).toEqual([
      ["blockquote", "Run:\nlet a = 1;\nlet b = 2;\nDone."],
      ["pre", "let a = 1;\nlet b = 2;"],
    ]);
  });

  it("resolves reference-style links", () => {
    const ft = convert("Read [the docs][1] and [MDN].\n\n[1]: https://example.com/docs\n[mdn]: https://developer.mozilla.org 'MDN'");
    expect(ft.text).toBe("Read the docs and MDN.");
    expect(ft.entities).toEqual([
      { type: "text_link", offset: 5, length: 8, url: "https://example.com/docs" },
      { type: "text_link", offset: 18, length: 3, url: "https://developer.mozilla.org" },
    ]);
  });

  it("decodes HTML entities", () => {
    expect(convert("a &amp; b &lt;c&gt; d&nbsp;e &copy; &#x1F600; &unknown;").text).toBe("a & b <c> d\u00a0e © 😀 &unknown;");
  });

  it("shows a badge as a link named by its alt text, and keeps <…> destinations with escapes", () => {
    expect(convert("[![CI](https://img.example/ci.svg)](https://github.com/o/r/actions)")).toEqual({
      text: "CI",
      entities: [{ type: "text_link", offset: 0, length: 2, url: "https://github.com/o/r/actions" }],
    });
    // CommonMark example 493: the escaped > does not close the destination, so this is text, URL and all.
    expect(convert("[link](<foo\\>)")).toEqual({ text: "[link](<foo>)", entities: [] });
    expect(convert("[link](<https://example.com/a\\>b>)").entities).toEqual([
      { type: "text_link", offset: 0, length: 4, url: "https://example.com/a%3Eb" },
    ]);
  });

  it("keeps the link and drops the code style when code sits inside a link; bold around code stays", () => {
    const ft = convert("See [`package.json`](https://example.com/pkg) and **run `npm ci`**.");
    expect(spans(ft)).toEqual([
      ["text_link", "package.json"],
      ["bold", "run npm ci"],
      ["code", "npm ci"],
    ]);
  });

  it("reads indented code as code and setext headings as headings", () => {
    const ft = convert("Title\n===\n\nText:\n\n    const a = 1;\n      indented();\n\nSub\n---\nEnd");
    expect(ft.text).toBe("Title\n\nText:\n\nconst a = 1;\n  indented();\n\nSub\nEnd");
    expect(spans(ft)).toEqual([
      ["bold", "Title"],
      ["pre", "const a = 1;\n  indented();"],
      ["bold", "Sub"],
    ]);
  });

  it("shows raw HTML as text, never dropping it", () => {
    expect(convert("x<sup>2</sup> and <span>kept</span>\n\n<div>\n*block*\n</div>").text).toBe(
      "x<sup>2</sup> and <span>kept</span>\n\n<div>\n*block*\n</div>",
    );
  });

  it("numbers ordered lists from their start, indents nested items under their parent's text", () => {
    const ft = convert("3. three\n1. four\n   - nested\n     more\n\n   second paragraph");
    expect(ft.text).toBe("3. three\n4. four\n   • nested\n     more\n\n   second paragraph");
  });
});

function removeRanges(ft: FormattedText, types: string[]): string {
  let out = "";
  let cursor = 0;
  for (const e of ft.entities.filter((x) => types.includes(x.type))) {
    if (e.offset < cursor) continue;
    out += ft.text.slice(cursor, e.offset);
    cursor = e.offset + e.length;
  }
  return out + ft.text.slice(cursor);
}

describe("markdownToEntities: streaming (partial)", () => {
  it("styles the rest of the paragraph after an unclosed marker and hides the marker", () => {
    expect(spans(convert("Hello **bo", true))).toEqual([["bold", "bo"]]);
    expect(convert("Hello **bo", true).text).toBe("Hello bo");
    expect(spans(convert("Use `npm *c", true))).toEqual([["code", "npm *c"]]);
    expect(spans(convert("x ~~gone and ||hid", true))).toEqual([
      ["strikethrough", "gone and hid"],
      ["spoiler", "hid"],
    ]);
    expect(spans(convert("*it **bold", true))).toEqual([
      ["italic", "it bold"],
      ["bold", "bold"],
    ]);
  });

  it("shows only the text of a link whose URL is still arriving", () => {
    expect(convert("See [the docs](https://exa", true)).toEqual({ text: "See the docs", entities: [] });
    expect(convert("See [the docs]", true)).toEqual({ text: "See the docs", entities: [] });
    expect(convert("See [the do", true)).toEqual({ text: "See the do", entities: [] });
    expect(spans(convert("See [the docs](https://example.com)", true))).toEqual([["text_link", "the docs"]]);
  });

  it("hides a dangling marker at the very end", () => {
    for (const [src, text] of [
      ["Done *", "Done"],
      ["Done _", "Done"],
      ["Done `", "Done"],
      ["Done #", "Done"],
      ["Done [", "Done"],
      ["Done |", "Done"],
      ["Done **bold*", "Done bold"],
      ["line\n-", "line"],
      ["line\n##", "line"],
      ["a <br", "a"],
      ["go to <https://exa", "go to https://exa"],
    ] as const) {
      expect(convert(src, true).text, src).toBe(text);
    }
  });

  it("keeps unmatched markers literal in earlier, closed paragraphs", () => {
    const ft = convert("a **b\n\nc **d", true);
    expect(ft.text).toBe("a **b\n\nc d");
    expect(spans(ft)).toEqual([["bold", "d"]]);
  });

  it("shows an unclosed fence as pre with its language, hiding a half-typed closing fence", () => {
    expect(convert("Code:\n```py\nprint('*hi*')\n", true).entities).toEqual([
      { type: "pre", offset: 6, length: 13, language: "py" },
    ]);
    const ft = convert("Code:\n```py\nprint('*hi*')\n``", true);
    expect(ft.text).toBe("Code:\nprint('*hi*')");
    expect(convert("Code:\n``", true).text).toBe("Code:");
    expect(convert("Code:\n```pyth", true).text).toBe("Code:");
  });

  it("hides a table header until its delimiter row arrives, then shows the table", () => {
    expect(convert("Table:\n| a | b |", true).text).toBe("Table:");
    expect(convert("Table:\n| a | b |\n|-", true).text).toBe("Table:");
    expect(spans(convert("Table:\n| a | b |\n|---|-", true))).toEqual([["pre", "a | b\n--+--"]]);
    expect(spans(convert("Table:\n| a | b |\n|---|---|\n| 1 | **2", true))).toEqual([["pre", "a | b\n--+--\n1 | 2"]]);
  });

  it("ends every paragraph of a realistic answer as the final text does", () => {
    for (const answer of ANSWERS) {
      for (let k = answer.indexOf("\n\n"); k !== -1; k = answer.indexOf("\n\n", k + 1)) {
        const prefix = answer.slice(0, k + 2);
        expect(markdownToEntities(prefix, { partial: true })).toEqual(markdownToEntities(prefix));
      }
    }
  });

  it("is valid at every prefix of realistic answers, never shows a dangling ** or `, and ends as the final text", () => {
    for (const answer of ANSWERS) {
      const final = convert(answer);
      for (let k = 1; k <= answer.length; k++) {
        const ft = convert(answer.slice(0, k), true);
        const visible = removeRanges(ft, ["code", "pre"]);
        expect(visible, answer.slice(0, k)).not.toMatch(/\*\*|`|\]\(/);
        // Text inside a pre while its fence is open is a prefix of the final code block.
        for (const pre of ft.entities.filter((e) => e.type === "pre" && "language" in e)) {
          const code = ft.text.slice(pre.offset, pre.offset + pre.length);
          const finalPre = final.entities.find(
            (e) => e.type === "pre" && "language" in e && final.text.slice(e.offset, e.offset + e.length).startsWith(code),
          );
          expect(finalPre, code).toBeDefined();
        }
      }
      expect(convert(answer, true)).toEqual(final);
    }
  });

  it("shows no marker flicker: bold text streamed char by char keeps its style", () => {
    const src = "Intro **bold words here** and *more* end";
    const boldStart = "Intro ".length;
    for (let k = "Intro **b".length; k <= src.length; k++) {
      const ft = convert(src.slice(0, k), true);
      expect(ft.text.startsWith("Intro b"), ft.text).toBe(true);
      expect(ft.entities[0]).toMatchObject({ type: "bold", offset: boldStart });
    }
  });
});

const GARBAGE_PIECES = [
  "*", "**", "***", "_", "__", "~~", "~", "||", "|", "`", "``", "```", "```py\n", "~~~", "[", "]", "(", ")", "](",
  "](https://a.example/x", ")", "<", ">", "<br>", "<https://x.org>", "\\", "\\*", "#", "## ", "- ", "* ", "+ ", "1. ",
  "> ", ">", "- [ ] ", "- [x] ", "---", "\n", "\n\n", "\n\n\n", " ", "  ", "\t", "word", "snake_case", "2*3", "😀",
  "👩‍💻", "中文", "𝒳", "\uD83D", "\uDE00", "| a | b |\n|---|---|\n", "| c |", "http://h.example/a_b", "!", "\r\n",
  "mailto:x@y.z", "\u00a0", "\u200b",
];

function garbage(random: () => number, pieces: number): string {
  const out: string[] = [];
  for (let k = 0; k < pieces; k++) out.push(GARBAGE_PIECES[Math.floor(random() * GARBAGE_PIECES.length)] as string);
  return out.join("");
}

describe("markdownToEntities: properties", () => {
  it("produces valid entities for random garbage, final and streaming, at every prefix", () => {
    const random = rng(42);
    for (let run = 0; run < 300; run++) {
      const src = garbage(random, 5 + Math.floor(random() * 60));
      convert(src);
      convert(src, true);
      if (run < 60) for (let k = 1; k < src.length; k++) convert(src.slice(0, k), true);
    }
  });

  it("produces valid entities for random ASCII noise", () => {
    const random = rng(7);
    const alphabet = "ab *_~|`[]()<>#-+!\\\n:/.h";
    for (let run = 0; run < 300; run++) {
      const chars: string[] = [];
      const length = Math.floor(random() * 120);
      for (let k = 0; k < length; k++) chars.push(alphabet[Math.floor(random() * alphabet.length)] as string);
      const src = chars.join("");
      convert(src);
      convert(src, true);
    }
  });

  it("never starts or ends an entity inside a surrogate pair and covers only real text", () => {
    const ft = convert("😀**😀**😀 _😀_ `😀` [😀](https://x.example)");
    expect(spans(ft)).toEqual([
      ["bold", "😀"],
      ["italic", "😀"],
      ["code", "😀"],
      ["text_link", "😀"],
    ]);
  });

  it("stays valid on hostile input (deep nesting, thousands of unmatched markers)", () => {
    // Speed on these is measured by a benchmark, not here (CONTRIBUTING.md): this checks the output only.
    const hostile = [
      "*a ".repeat(3000),
      "_".repeat(10000),
      "[".repeat(5000) + "](",
      "`".repeat(3) + "x`".repeat(3000),
      "**a ".repeat(2000) + "b",
      "[a](".repeat(2000),
      "<".repeat(5000),
      "| a ".repeat(1000) + "\n|---|\n",
      "-".repeat(10000) + "x",
      "~~a ".repeat(2000),
      "*_".repeat(3000) + "x" + "_*".repeat(3000),
      "https://a.example/" + ")".repeat(3000),
    ];
    for (const src of hostile) {
      expect(convert(src).text.length).toBeGreaterThan(0);
      convert(src, true);
    }
    // Thousands of unclosed openers while streaming: one entity of each kind survives, not thousands nested.
    expect(convert("~~a ".repeat(2000), true).entities).toHaveLength(1);
  });
});

describe("checkEntities", () => {
  const e = (type: string, offset: number, length: number, extra: object = {}): MessageEntity =>
    ({ type, offset, length, ...extra }) as MessageEntity;

  it("accepts valid nested entities", () => {
    expect(checkEntities({ text: "bold italic", entities: [e("bold", 0, 11), e("italic", 5, 6)] })).toBeNull();
    expect(checkEntities({ text: "", entities: [] })).toBeNull();
  });

  it("rejects what Telegram rejects", () => {
    const text = "ab 😀 cd";
    const cases: [MessageEntity[], RegExp][] = [
      [[e("bold", 0, 0)], /bad length/],
      [[e("bold", -1, 2)], /bad offset/],
      [[e("bold", 5, 10)], /ends after/],
      [[e("bold", 4, 2)], /inside a surrogate pair/],
      [[e("bold", 3, 1)], /ends inside a surrogate pair/],
      [[e("bold", 2, 1)], /only whitespace/],
      [[e("italic", 3, 2), e("bold", 0, 2)], /not sorted/],
      [[e("bold", 0, 2), e("italic", 0, 5)], /longer/],
      [[e("bold", 0, 5), e("italic", 3, 5)], /crosses/],
      [[e("code", 0, 5), e("bold", 0, 2)], /inside code/],
      [[e("pre", 0, 8), e("italic", 6, 2)], /inside pre/],
      [[e("bold", 0, 8), e("bold", 6, 2)], /another bold/],
      [[e("blockquote", 0, 8), e("expandable_blockquote", 6, 2)], /blockquote inside/],
      [[e("text_link", 0, 2, { url: "javascript:alert(1)" })], /bad url/],
      [[e("weird", 0, 2)], /unknown type/],
    ];
    for (const [entities, reason] of cases) expect(checkEntities({ text, entities })).toMatch(reason);
  });

  it("accepts only http(s) with a host, tg and mailto link URLs", () => {
    expect(isAllowedLinkUrl("https://example.com/a?b=c")).toBe(true);
    expect(isAllowedLinkUrl("tg://resolve?domain=x")).toBe(true);
    expect(isAllowedLinkUrl("mailto:a@b.c")).toBe(true);
    expect(isAllowedLinkUrl("http://")).toBe(false);
    expect(isAllowedLinkUrl("https://exa mple.com")).toBe(false);
    expect(isAllowedLinkUrl("ftp://x.org")).toBe(false);
    expect(isAllowedLinkUrl("/relative")).toBe(false);
  });
});
