/** Evaluation metrics, each named for exactly what it computes. */

/** Regression metrics of predictions against targets. */
export interface RegressionMetrics {
  n: number;
  /** mean squared error */
  mse: number;
  /** mean absolute error: mean |pred - y| */
  mae: number;
  /** root mean squared error: sqrt(mean (pred - y)^2) */
  rmse: number;
  /** fraction of samples with |pred - y| <= 0.5 */
  within05: number;
}

/** MSE, MAE, RMSE and the within-0.5 rate. */
export function regressionMetrics(pred: ArrayLike<number>, y: ArrayLike<number>): RegressionMetrics {
  const n = pred.length;
  let se = 0, ae = 0, within = 0;
  for (let i = 0; i < n; i++) {
    const e = pred[i] - y[i];
    se += e * e;
    ae += Math.abs(e);
    if (Math.abs(e) <= 0.5) within++;
  }
  const mse = n ? se / n : NaN;
  return { n, mse, mae: n ? ae / n : NaN, rmse: Math.sqrt(mse), within05: n ? within / n : NaN };
}

/** ROC AUC (Mann-Whitney, ties counted half). NaN when only one class is present. */
export function auc(score: ArrayLike<number>, label: ArrayLike<number>): number {
  const n = score.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[a] - score[b]);
  let rankSumPos = 0, nPos = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && score[idx[j + 1]] === score[idx[i]]) j++;
    const avgRank = (i + j) / 2 + 1; // 1-based average rank of the tie group
    for (let k = i; k <= j; k++) if (label[idx[k]] > 0.5) { rankSumPos += avgRank; nPos++; }
    i = j + 1;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** Classification metrics of probabilities against 0/1 labels. */
export interface ClassificationMetrics {
  n: number;
  /** ROC AUC */
  auc: number;
  /** mean binary cross-entropy (probabilities clipped to [1e-7, 1 - 1e-7]) */
  logLoss: number;
  /** fraction with (p >= 0.5) == label */
  accuracy: number;
}

/** AUC, log loss and accuracy at 0.5. */
export function classificationMetrics(prob: ArrayLike<number>, y: ArrayLike<number>): ClassificationMetrics {
  const n = prob.length;
  let ll = 0, correct = 0;
  for (let i = 0; i < n; i++) {
    const p = Math.min(1 - 1e-7, Math.max(1e-7, prob[i]));
    ll -= y[i] > 0.5 ? Math.log(p) : Math.log(1 - p);
    if ((p >= 0.5) === (y[i] > 0.5)) correct++;
  }
  return { n, auc: auc(prob, y), logLoss: n ? ll / n : NaN, accuracy: n ? correct / n : NaN };
}
