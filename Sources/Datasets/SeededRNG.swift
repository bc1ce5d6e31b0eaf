import Support

/// The Datasets module's generator: Support's `SplitMix64`, so every random choice in the Datasets
/// module (synthetic datasets, splits, samplers, augmentations) is reproducible from a seed,
/// independently of thread scheduling. `SeededRNG(seed:stream:_:)` gives one item of a stream
/// (e.g. epoch and sample); the distributions (`uniform`, `normal`, `bernoulli`, `categorical`,
/// …) are Support's, shared with every other FairMed generator.
public typealias SeededRNG = SplitMix64
