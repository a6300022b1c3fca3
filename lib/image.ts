// Image input: a file path, encoded bytes (JPEG, PNG and whatever else sharp decodes),
// or raw pixels. Everything is turned into tightly packed HWC RGB uint8.

import * as fs from 'node:fs';

import sharp from 'sharp';

import { FacebitsError, invalidParameter } from './errors';

export interface RawImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  /** 1 (grey), 3 (RGB) or 4 (RGBA). */
  channels: number;
}

export type ImageInput = string | Uint8Array | RawImage;

export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Default cap on decoded pixels, the same order as sharp's limitInputPixels. */
export const DEFAULT_MAX_PIXELS = 0x3fff * 0x3fff;

/** The maximum image side, in pixels, that the core resizes and warps (kMaxImageSide in native/image.h). */
export const MAX_IMAGE_SIDE = 16384;

function isRawImage(value: unknown): value is RawImage {
  return typeof value === 'object' && value !== null && 'data' in value && 'width' in value && 'height' in value;
}

// Shows a string in quotes with its type, so "10" of type string is not read as the number 10.
function received(value: unknown): string {
  return typeof value === 'string' ? `${JSON.stringify(value)} of type string` : `${String(value)} of type ${typeof value}`;
}

function checkDimensions(width: unknown, height: unknown, maxPixels: number, label: string): void {
  if (!Number.isInteger(width) || (width as number) < 1) throw invalidImage(`${label} width must be a positive integer, received ${received(width)}`);
  if (!Number.isInteger(height) || (height as number) < 1) throw invalidImage(`${label} height must be a positive integer, received ${received(height)}`);
  const side = Math.max(width as number, height as number);
  if (side > MAX_IMAGE_SIDE) {
    throw invalidImage(`${label} is ${width}x${height} pixels, and no side may exceed ${MAX_IMAGE_SIDE} pixels; downscale it`);
  }
  const pixels = (width as number) * (height as number);
  if (pixels > maxPixels) {
    throw invalidImage(`${label} has ${width}x${height} = ${pixels} pixels, more than the limit of ${maxPixels}; downscale it or raise the maxPixels option`);
  }
}

function invalidImage(message: string, cause?: unknown): FacebitsError {
  return new FacebitsError('INVALID_IMAGE', `Invalid image: ${message}`, { cause });
}

function toRgb(raw: RawImage): RgbImage {
  const { width, height, channels } = raw;
  const data = raw.data instanceof Uint8Array ? raw.data : new Uint8Array(raw.data.buffer, raw.data.byteOffset, raw.data.length);
  if (channels === 3) return { data, width, height };

  const out = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < width * height; i++, j += channels) {
    out[i * 3] = data[j];
    out[i * 3 + 1] = data[channels === 1 ? j : j + 1];
    out[i * 3 + 2] = data[channels === 1 ? j : j + 2];
  }
  return { data: out, width, height };
}

function fromRaw(raw: RawImage, maxPixels: number): RgbImage {
  if (!(raw.data instanceof Uint8Array || raw.data instanceof Uint8ClampedArray)) {
    throw invalidParameter('image.data', 'a Uint8Array of HWC pixels', raw.data);
  }
  if (![1, 3, 4].includes(raw.channels)) {
    throw invalidParameter('image.channels', '1, 3 or 4', raw.channels);
  }
  checkDimensions(raw.width, raw.height, maxPixels, 'raw image');
  const expected = raw.width * raw.height * raw.channels;
  if (raw.data.length !== expected) {
    throw invalidImage(
      `raw pixel buffer has ${raw.data.length} bytes but ${raw.width}x${raw.height}x${raw.channels} needs ${expected}; pass width, height and channels that match the data`,
    );
  }
  return toRgb(raw);
}

async function decodeEncoded(bytes: Uint8Array, label: string, maxPixels: number): Promise<RgbImage> {
  if (bytes.length === 0) throw invalidImage(`${label} is empty`);
  let result: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    result = await sharp(bytes, { limitInputPixels: maxPixels, failOn: 'truncated' })
      .rotate()
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    // libvips can repeat its message over several lines, and the first names the failure.
    const reason = (error as Error).message.split('\n')[0].trim();
    if (/pixel limit/i.test(reason)) {
      throw invalidImage(`${label} has more than ${maxPixels} pixels; downscale it or raise the maxPixels option`, error);
    }
    throw invalidImage(`${label} cannot be decoded (${reason}); pass a complete JPEG, PNG, WebP, GIF or TIFF file`, error);
  }
  const { data, info } = result;
  checkDimensions(info.width, info.height, maxPixels, label);
  return toRgb({ data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: info.channels });
}

/** Decodes any supported image input to RGB pixels. */
export async function readImage(input: ImageInput, maxPixels = DEFAULT_MAX_PIXELS): Promise<RgbImage> {
  if (typeof input === 'string') {
    let bytes: Buffer;
    try {
      bytes = await fs.promises.readFile(input);
    } catch (error) {
      throw invalidImage(`file ${input} cannot be read: ${(error as Error).message}`, error);
    }
    return decodeEncoded(bytes, `file ${input}`, maxPixels);
  }
  if (input instanceof Uint8Array) return decodeEncoded(input, `buffer of ${input.length} bytes`, maxPixels);
  if (isRawImage(input)) return fromRaw(input, maxPixels);
  throw invalidParameter('image', 'a file path, an encoded image Buffer or Uint8Array, or { data, width, height, channels }', input);
}
