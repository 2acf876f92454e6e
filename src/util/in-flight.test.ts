import { describe, expect, it } from "vitest";
import { InFlight } from "./in-flight.js";

describe("InFlight", () => {
  it("runs a task once for every caller that asks while it runs, and again after it settled", async () => {
    const shared = new InFlight<number>();
    let runs = 0;
    let finish!: (n: number) => void;
    const task = () => {
      runs++;
      return new Promise<number>((r) => (finish = r));
    };
    const first = shared.run("a", task);
    const second = shared.run("a", task);
    expect(runs).toBe(1);
    expect(shared.size).toBe(1);
    finish(7);
    expect(await Promise.all([first, second])).toEqual([7, 7]);
    expect(shared.size).toBe(0);
    void shared.run("a", task);
    expect(runs).toBe(2);
    finish(8);
  });

  it("lets one caller stop waiting without stopping the task for the others", async () => {
    const shared = new InFlight<string>();
    let finish!: (s: string) => void;
    const task = () => new Promise<string>((r) => (finish = r));
    const stop = new AbortController();
    const impatient = shared.run("k", task, stop.signal);
    const patient = shared.run("k", task);
    stop.abort(new Error("gave up"));
    await expect(impatient).rejects.toThrow("gave up");
    finish("done");
    expect(await patient).toBe("done");
  });

  it("shares a failure, and forgets it", async () => {
    const shared = new InFlight<number>();
    const failing = () => Promise.reject(new Error("boom"));
    await expect(Promise.all([shared.run("x", failing), shared.run("x", failing)])).rejects.toThrow("boom");
    expect(shared.size).toBe(0);
  });
});
