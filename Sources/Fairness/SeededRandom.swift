import Support

/// The audit's deterministic generator: Support's `Xoshiro256`, with independent sub-streams
/// (`SeededRandom(seed:stream:)`, e.g. one per bootstrap replicate) and Support's distributions
/// (`uniform`, `below`, `normal`, `binomial`, `multinomial`, …).
public typealias SeededRandom = Xoshiro256
