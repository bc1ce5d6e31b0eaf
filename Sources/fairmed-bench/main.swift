import Tensor
print("fairmed-bench: threads \(Parallel.threadCount)")
