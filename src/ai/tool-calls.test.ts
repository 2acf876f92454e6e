import type { ChatCompletionChunk } from "openai/resources/chat/completions";
import { describe, expect, it } from "vitest";
import { ToolCallAccumulator } from "./tool-calls.js";

type Delta = ChatCompletionChunk.Choice.Delta.ToolCall;

/** The fragments OpenAI streams for the notes' question about San Francisco, Tokyo and Paris. */
function threeParallelCalls(): Delta[][] {
  const start = (index: number, id: string): Delta => ({
    index,
    id,
    type: "function",
    function: { name: "get_current_weather", arguments: "" },
  });
  const args = (index: number, text: string): Delta => ({ index, function: { arguments: text } });
  return [
    [start(0, "call_0QMDlATqYjBjgdySQVCL0PI4")],
    [args(0, '{"lo')],
    [args(0, 'cation": "San')],
    [args(0, ' Francisco", "unit": "celsius"}')],
    [start(1, "call_e8ceipN3i2OUiF3Z38qNEEs5")],
    [args(1, '{"location": ')],
    [args(1, '"Tokyo", "unit": "celsius"}')],
    [start(2, "call_cHlSgOIcsOXwpiOpzHIev6vF")],
    [args(2, '{"location": "Paris", ')],
    [args(2, '"unit": "celsius"}')],
  ];
}

const expected = [
  { id: "call_0QMDlATqYjBjgdySQVCL0PI4", name: "get_current_weather", arguments: '{"location": "San Francisco", "unit": "celsius"}' },
  { id: "call_e8ceipN3i2OUiF3Z38qNEEs5", name: "get_current_weather", arguments: '{"location": "Tokyo", "unit": "celsius"}' },
  { id: "call_cHlSgOIcsOXwpiOpzHIev6vF", name: "get_current_weather", arguments: '{"location": "Paris", "unit": "celsius"}' },
];

describe("ToolCallAccumulator", () => {
  it("assembles three parallel calls streamed one after another", () => {
    const acc = new ToolCallAccumulator();
    acc.add(undefined); // content chunks carry no tool_calls
    for (const chunk of threeParallelCalls()) acc.add(chunk);
    expect(acc.size).toBe(3);
    expect(acc.calls()).toEqual(expected);
    for (const call of acc.calls()) expect(() => JSON.parse(call.arguments) as unknown).not.toThrow();
  });

  it("assembles calls whose fragments interleave, several per chunk", () => {
    const chunks = threeParallelCalls();
    // Starts first, then the argument fragments round-robin, two deltas per chunk.
    const starts = [chunks[0]!, chunks[4]!, chunks[7]!].flat();
    const rest = [[chunks[1], chunks[5], chunks[8]], [chunks[2], chunks[6], chunks[9]], [chunks[3]]]
      .flat()
      .filter((c): c is Delta[] => c !== undefined)
      .flat();
    const acc = new ToolCallAccumulator();
    acc.add(starts);
    for (let i = 0; i < rest.length; i += 2) acc.add(rest.slice(i, i + 2));
    expect(acc.calls()).toEqual(expected);
  });

  it("keeps calls in order of their index even when fragments arrive out of order", () => {
    const acc = new ToolCallAccumulator();
    acc.add([{ index: 0, id: "a", function: { name: "f", arguments: "{" } }]);
    acc.add([{ index: 1, id: "b", function: { name: "g", arguments: "{" } }]);
    acc.add([{ index: 1, function: { arguments: "}" } }, { index: 0, function: { arguments: '"x":1}' } }]);
    expect(acc.calls()).toEqual([
      { id: "a", name: "f", arguments: '{"x":1}' },
      { id: "b", name: "g", arguments: "{}" },
    ]);
  });

  it("ignores an id and name repeated on every fragment (some compatible servers do)", () => {
    const acc = new ToolCallAccumulator();
    acc.add([{ index: 0, id: "call_1", function: { name: "get_current_weather", arguments: '{"location":' } }]);
    acc.add([{ index: 0, id: "call_1", function: { name: "get_current_weather", arguments: '"Tokyo"}' } }]);
    expect(acc.calls()).toEqual([{ id: "call_1", name: "get_current_weather", arguments: '{"location":"Tokyo"}' }]);
  });

  it("starts a new call when a new id arrives at an index already used", () => {
    const acc = new ToolCallAccumulator();
    acc.add([{ index: 0, id: "call_a", function: { name: "f", arguments: "{}" } }]);
    acc.add([{ index: 0, id: "call_b", function: { name: "f", arguments: '{"n":' } }]);
    acc.add([{ index: 0, function: { arguments: "2}" } }]);
    expect(acc.calls()).toEqual([
      { id: "call_a", name: "f", arguments: "{}" },
      { id: "call_b", name: "f", arguments: '{"n":2}' },
    ]);
  });

  it("makes up a stable id when the server sends none", () => {
    const acc = new ToolCallAccumulator();
    acc.add([{ index: 0, function: { name: "f", arguments: "{}" } }]);
    acc.add([{ index: 1, function: { name: "g" } }]);
    expect(acc.calls()).toEqual([
      { id: "call_0", name: "f", arguments: "{}" },
      { id: "call_1", name: "g", arguments: "" },
    ]);
    expect(acc.calls()).toEqual(acc.calls());
  });

  it("returns copies, so callers cannot corrupt the state", () => {
    const acc = new ToolCallAccumulator();
    acc.add([{ index: 0, id: "x", function: { name: "f", arguments: "{" } }]);
    acc.calls()[0]!.arguments = "broken";
    acc.add([{ index: 0, function: { arguments: "}" } }]);
    expect(acc.calls()[0]?.arguments).toBe("{}");
  });
});
