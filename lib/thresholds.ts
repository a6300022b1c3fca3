// Calibrated cosine thresholds of the built-in embedders.
//
// NOTE: placeholder until `facebits eval lfw` measures the mean of the ten per-fold
// thresholds on LFW; docs/ACCURACY.md records the run.
export const DEFAULT_THRESHOLDS = {
  'fr-feature': 0.3,
};
