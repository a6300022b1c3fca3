// facebits: face detection, alignment, embedding and comparison on a native SIMD core.

export { load } from './load';
export type { LoadOptions, DetectorOptions, EmbedderOptions } from './load';
export { Facebits } from './facebits';
export type { FaceEmbedding } from './facebits';
export type { Comparison, CompareOptions } from './compare';
export { cosineSimilarity } from './compare';
export { FacebitsError } from './errors';
export type { FacebitsErrorCode } from './errors';
export type { Face, Box } from './detect/face';
export type { ImageInput, RawImage } from './image';
export { ARCFACE_112, estimateSimilarity } from './align';
export { Gallery } from './gallery';
export type { GalleryMatch, GalleryOptions, GalleryTemplate, OpenOptions as GalleryOpenOptions, SaveOptions as GallerySaveOptions, SearchOptions } from './gallery';
export { identify } from './eval/identify';
export type { IdentifyReport } from './eval/identify';
export { generateKey, open, openAsync, openTemplate, seal, sealAsync, sealTemplate, SEAL_KEY_BYTES } from './protect';
export type { OpenOptions as SealOpenOptions, SealedKind, SealOptions } from './protect';
export { calibrate } from './calibrate';
export type { Calibration, CalibrateOptions, ScoredLabel } from './calibrate';
export { fitHead, headProbability, headLogit, loadHead, saveHead, parseHead, serializeHead } from './head';
export type { Head, FitHeadOptions, LabelledPair } from './head';
export { fitQuantizer, randomQuantizer, encode, encodeMany, codeBytes } from './quantizer';
export type { Quantizer, QuantizerOptions, FitQuantizerOptions } from './quantizer';
export { parseTemplate, serializeTemplate } from './template';
export type { Template } from './template';
export { DEFAULT_FAR, cosineThresholdAt } from './thresholds';
