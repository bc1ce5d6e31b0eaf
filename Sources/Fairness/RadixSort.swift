/// LSD radix sort of 64-bit keys carrying a 32-bit payload (16-bit digits, constant digits skipped).
enum RadixSort {
  static func sort(keys: inout [UInt64], payload: inout [UInt32]) {
    let n = keys.count
    guard n > 1 else { return }
    if n < 256 {
      let order = keys.indices.sorted { keys[$0] < keys[$1] || (keys[$0] == keys[$1] && $0 < $1) }
      keys = order.map { keys[$0] }; payload = order.map { payload[$0] }
      return
    }
    var keys2 = [UInt64](repeating: 0, count: n)
    var payload2 = [UInt32](repeating: 0, count: n)
    var counts = [Int](repeating: 0, count: 1 << 16)
    for shift in stride(from: 0, to: 64, by: 16) {
      for i in counts.indices { counts[i] = 0 }
      keys.withUnsafeBufferPointer { k in
        for x in k { counts[Int((x >> UInt64(shift)) & 0xFFFF)] += 1 }
      }
      if counts.contains(n) { continue }  // every key has the same digit here
      var total = 0
      for i in counts.indices { let c = counts[i]; counts[i] = total; total += c }
      keys.withUnsafeBufferPointer { k in
        payload.withUnsafeBufferPointer { p in
          keys2.withUnsafeMutableBufferPointer { k2 in
            payload2.withUnsafeMutableBufferPointer { p2 in
              for i in 0..<n {
                let d = Int((k[i] >> UInt64(shift)) & 0xFFFF)
                let at = counts[d]
                counts[d] = at + 1
                k2[at] = k[i]; p2[at] = p[i]
              }
            }
          }
        }
      }
      swap(&keys, &keys2); swap(&payload, &payload2)
    }
  }
}
