// Alignment: the least-squares similarity transform from detected landmarks onto a
// canonical template (Umeyama 1991, without reflection), and the templates themselves.

export type Point = [number, number];

/** ArcFace 112x112 template: eye centres, nose tip, mouth corners, image-left first. */
export const ARCFACE_112: Point[] = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];

/** Row-major 2x3 affine matrix [a, b, tx, c, d, ty]: x' = a x + b y + tx, y' = c x + d y + ty. */
export type Affine = [number, number, number, number, number, number];

/**
 * Estimates the similarity (scale, rotation, translation) that maps `src` onto `dst` with the
 * least squared error. Both lists need the same length, at least 2 points.
 */
export function estimateSimilarity(src: Point[], dst: Point[]): Affine {
  const n = src.length;
  if (n < 2 || dst.length !== n) throw new RangeError(`Expected two point lists of equal length >= 2, received ${n} and ${dst.length}`);

  let msx = 0, msy = 0, mdx = 0, mdy = 0;
  for (let i = 0; i < n; i++) {
    msx += src[i][0]; msy += src[i][1];
    mdx += dst[i][0]; mdy += dst[i][1];
  }
  msx /= n; msy /= n; mdx /= n; mdy /= n;

  // With centred points, the optimal similarity is [[p, -q], [q, p]] where
  // p = sum(sx dx + sy dy) / sum|s|^2 and q = sum(sx dy - sy dx) / sum|s|^2.
  let dot = 0, cross = 0, norm = 0;
  for (let i = 0; i < n; i++) {
    const sx = src[i][0] - msx, sy = src[i][1] - msy;
    const dx = dst[i][0] - mdx, dy = dst[i][1] - mdy;
    dot += sx * dx + sy * dy;
    cross += sx * dy - sy * dx;
    norm += sx * sx + sy * sy;
  }
  if (norm === 0) throw new RangeError('All source points coincide; the similarity transform is undefined');

  const p = dot / norm;
  const q = cross / norm;
  return [p, -q, mdx - (p * msx - q * msy), q, p, mdy - (q * msx + p * msy)];
}

export function invertAffine(m: Affine): Affine {
  const [a, b, tx, c, d, ty] = m;
  const det = a * d - b * c;
  if (det === 0) throw new RangeError('The affine matrix is singular');
  const ia = d / det, ib = -b / det, ic = -c / det, id = a / det;
  return [ia, ib, -(ia * tx + ib * ty), ic, id, -(ic * tx + id * ty)];
}

export function applyAffine(m: Affine, p: Point): Point {
  return [m[0] * p[0] + m[1] * p[1] + m[2], m[3] * p[0] + m[4] * p[1] + m[5]];
}

/** The ArcFace template for detectors with one mouth point: eyes, nose tip, mouth centre. */
export const ARCFACE_112_MOUTH_CENTRE: Point[] = [ARCFACE_112[0], ARCFACE_112[1], ARCFACE_112[2], [56.1396, 92.2848]];

/** Picks the template that matches a landmark count (5 or 4), scaled to `size` pixels. */
export function templateFor(count: number, size = 112): Point[] {
  let base: Point[];
  if (count === 5) base = ARCFACE_112;
  else if (count === 4) base = ARCFACE_112_MOUTH_CENTRE;
  else throw new RangeError(`Alignment needs 4 or 5 landmarks, received ${count}`);
  const s = size / 112;
  return base.map(([x, y]) => [x * s, y * s] as Point);
}
