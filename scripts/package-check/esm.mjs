// Runs inside a project that installed the facebits tarball: checks the ES module entry.

import { FacebitsError, cosineSimilarity, load } from 'facebits';

if (typeof load !== 'function' || typeof cosineSimilarity !== 'function' || typeof FacebitsError !== 'function') {
  throw new Error('the ES module entry lacks load, cosineSimilarity or FacebitsError');
}
console.log('import { load, cosineSimilarity, FacebitsError } from "facebits" works');
