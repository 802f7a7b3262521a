/** Evaluation metrics, each named for exactly what it computes. */
import { aucLiked, mae, mse, rmse, within } from './rating-metrics';

/**
 * The one metrics record of every model (the BST, the rating baselines, ensembles) on one split. Which fields
 * are set depends on the task and the scorer: ratingMetrics (baselines, benchmark) sets mae, rmse, aucLiked,
 * within05; regressionMetrics (BST 'rating') mse, mae, rmse, within05; classificationMetrics (BST 'like') auc,
 * logLoss, accuracy; the BST's evaluate adds its training loss.
 */
export interface EvalMetrics {
  /** number of scored samples */
  n: number;
  /** the training loss on this data (config.loss for 'rating': MSE, MAE or Huber; log loss for 'like') */
  loss?: number;
  /** mean squared error */
  mse?: number;
  /** mean absolute error: mean |pred - y| */
  mae?: number;
  /** root mean squared error: sqrt(mean (pred - y)^2) */
  rmse?: number;
  /** fraction of samples with |pred - y| <= 0.5 (inclusive) */
  within05?: number;
  /** AUC of liked (truth >= 4) ranked by the predicted rating; NaN if one class is absent */
  aucLiked?: number;
  /** ROC AUC of 0/1 labels */
  auc?: number;
  /** mean binary cross-entropy (probabilities clipped to [1e-7, 1 - 1e-7]) */
  logLoss?: number;
  /** fraction with (p >= 0.5) == label */
  accuracy?: number;
}

/** MSE, MAE, RMSE and the within-0.5 rate (computed by lib/model/rating-metrics; NaN when there are no samples). */
export function regressionMetrics(pred: ArrayLike<number>, y: ArrayLike<number>): EvalMetrics {
  const n = pred.length;
  if (n === 0) return { n, mse: NaN, mae: NaN, rmse: NaN, within05: NaN };
  return { n, mse: mse(pred, y), mae: mae(pred, y), rmse: rmse(pred, y), within05: within(pred, y, 0.5) };
}

/** ROC AUC of 0/1 labels (Mann-Whitney, ties counted half; lib/eval's aucLiked). NaN when only one class is present. */
export function auc(score: ArrayLike<number>, label: ArrayLike<number>): number {
  return score.length === 0 ? NaN : aucLiked(score, label, 0.5);
}

/** AUC, log loss and accuracy at 0.5. */
export function classificationMetrics(prob: ArrayLike<number>, y: ArrayLike<number>): EvalMetrics {
  const n = prob.length;
  let ll = 0,
    correct = 0;
  for (let i = 0; i < n; i++) {
    const p = Math.min(1 - 1e-7, Math.max(1e-7, prob[i]));
    ll -= y[i] > 0.5 ? Math.log(p) : Math.log(1 - p);
    if (p >= 0.5 === y[i] > 0.5) correct++;
  }
  return { n, auc: auc(prob, y), logLoss: n ? ll / n : NaN, accuracy: n ? correct / n : NaN };
}
