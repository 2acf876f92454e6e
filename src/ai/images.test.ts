import { describe, expect, it } from "vitest";
import { makeGif, makeJpeg, makePng, makeWebp } from "../../test/fixtures/images.js";
import { imageInfo, toDataUrl } from "./images.js";

describe("imageInfo", () => {
  it.each([
    ["PNG", makePng(37, 21), "image/png"],
    ["JPEG", makeJpeg(37, 21), "image/jpeg"],
    ["WebP", makeWebp(37, 21), "image/webp"],
    ["GIF", makeGif(37, 21), "image/gif"],
  ] as const)("reads a %s's size and type", (_name, bytes, mime) => {
    expect(imageInfo(bytes)).toEqual({ width: 37, height: 21, mime });
  });

  it("reads large sizes from the header only", () => {
    expect(imageInfo(makeJpeg(4000, 3000))).toEqual({ width: 4000, height: 3000, mime: "image/jpeg" });
    expect(imageInfo(makeWebp(16383, 2))).toEqual({ width: 16383, height: 2, mime: "image/webp" });
  });

  it("gives a JPEG's displayed size when Exif rotates it by 90°", () => {
    expect(imageInfo(makeJpeg(40, 20, { exifOrientation: 6 }))).toEqual({ width: 20, height: 40, mime: "image/jpeg" });
    expect(imageInfo(makeJpeg(40, 20, { exifOrientation: 3 }))).toEqual({ width: 40, height: 20, mime: "image/jpeg" });
  });

  it("gives a GIF's canvas size, the size its first frame is shown at", () => {
    expect(imageInfo(makeGif(50, 40, { width: 10, height: 5 }))).toEqual({ width: 50, height: 40, mime: "image/gif" });
  });

  it("returns null for other formats and for garbage", () => {
    const bmp = Buffer.alloc(54);
    bmp.write("BM", 0, "latin1");
    bmp.writeUInt32LE(54, 2);
    bmp.writeUInt32LE(40, 14);
    bmp.writeInt32LE(10, 18);
    bmp.writeInt32LE(10, 22);
    expect(imageInfo(new Uint8Array(bmp))).toBeNull();
    const svg = new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>');
    expect(imageInfo(svg)).toBeNull();
    expect(imageInfo(new Uint8Array(0))).toBeNull();
    expect(imageInfo(new TextEncoder().encode("hello, not an image"))).toBeNull();
    expect(imageInfo(makePng(10, 10).subarray(0, 12))).toBeNull();
  });
});

describe("toDataUrl", () => {
  it("encodes exactly the given bytes, also from a view into a larger buffer", () => {
    const backing = new Uint8Array([0xff, 0x01, 0x02, 0x03, 0xfe]);
    const view = backing.subarray(1, 4);
    const url = toDataUrl(view, "image/png");
    expect(url).toBe("data:image/png;base64,AQID");
    const png = makePng(3, 2);
    const decoded = Buffer.from(toDataUrl(png, "image/png").split(",")[1]!, "base64");
    expect(decoded.equals(Buffer.from(png))).toBe(true);
  });
});
