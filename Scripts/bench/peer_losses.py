"""The CMAC-MMD reference the PyTorch peers share: certainty margins on cosine similarities, RBF
MMD² (σ 0.1, biased), and the pooled-detached, per-class comparison over six subgroups."""
import torch
import torch.nn.functional as F


def margins(sims, y):
    correct = sims.gather(1, y[:, None]).squeeze(1)
    other = sims.masked_fill(F.one_hot(y, sims.shape[1]).bool(), float("-inf")).max(1).values
    return correct - other


def mmd2(x, y, s=0.1):
    k = lambda a, b: torch.exp(-(a[:, None] - b[None, :]) ** 2 / (2 * s * s))
    return k(x, x).mean() + k(y, y).mean() - 2 * k(x, y).mean()


def cmac_pooled_detached_per_class(s, labels, groups, group_count=6):
    """Each subgroup's margins against its class's detached pool, averaged (0 when none qualify)."""
    terms = []
    for y in (0, 1):
        cls = labels == y
        pool = s[cls].detach()
        for g in range(group_count):
            m = cls & (groups == g)
            if m.sum() >= 2:
                terms.append(mmd2(s[m], pool))
    return sum(terms) / len(terms) if terms else s.sum() * 0
