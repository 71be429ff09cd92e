// The per-exit distillation term of a branched student (docs/distillation.md "Branched students"): for the logits
// s of one exit head, against the full network's logits t (input `teacher…`) and, when α < 1, labels y (input
// `labels…`; α = 0: CE alone, the labels-only baseline):  L_exit = α·T²·KL(softmax(t/T) ‖ softmax(s/T)) + (1 − α)·CE(s, y),  the soft-target loss of the
// final output, term for term. Built from the KlDivergence and SoftmaxCrossEntropy kernels (batch means); α and
// 1 − α are Mul nodes by float32 [1] constants, so the term and its gradient are exactly those weighted sums
// (summed KL first, then CE). The exit's weight w multiplies the whole term (ExtraLoss.weight).
import type { ExtraLoss } from '../train/training-graph.ts';

/** The graph inputs an exit term reads (names given by the builder); filled when the training graph is built. */
export interface ExitInputs {
  teacher?: string;
  labels?: string;
}

export function exitKd(
  name: string,
  logits: string,
  temperature: number,
  alpha: number,
  weight: number,
  inputs: ExitInputs,
): ExtraLoss {
  return {
    name: `${alpha === 0 ? 'ce' : 'kd'}:${name}`,
    reads: [logits],
    weight,
    build(lb) {
      const shape = lb.shape(logits) as [number, number];
      const ceTerm = () => {
        const y = (inputs.labels = lb.input('labels', 'int32', [shape[0]]));
        return lb.add('SoftmaxCrossEntropy', [logits, y], { labelSmoothing: 0 }, 2) as [string, string];
      };
      // α 0: the labels alone, the baseline a distilled exit is compared with
      if (alpha === 0) {
        const [ce, dce] = ceTerm();
        return { loss: ce, grads: [dce] };
      }
      const t = (inputs.teacher = lb.input('teacher', 'float32', [...shape]));
      const [kl, dkl] = lb.add('KlDivergence', [logits, t], { temperature }, 2) as [string, string];
      if (alpha === 1) return { loss: kl, grads: [dkl] };
      const [ce, dce] = ceTerm();
      const a = lb.constant('alpha', [1], Float32Array.of(alpha)),
        b = lb.constant('one-minus-alpha', [1], Float32Array.of(1 - alpha));
      const mul = (x: string, c: string) => lb.add('Mul', [x, c])[0]!;
      const loss = lb.add('Add', [mul(kl, a), mul(ce, b)])[0]!;
      const grad = lb.add('Add', [mul(dkl, a), mul(dce, b)])[0]!;
      return { loss, grads: [grad] };
    },
  };
}
