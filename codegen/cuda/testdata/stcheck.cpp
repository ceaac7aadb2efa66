// stcheck parses safetensors files with cnnc_runtime.h and describes what it
// found, for comparison with compiler/tensor.ReadSafetensors. It reads
// records from stdin, each an 8-byte little-endian length and that many
// bytes, and writes for each either "error" or "ok <tensors>" followed by
// one line per tensor in offset order: the name in hex, the dtype, the
// shape, and the FNV-1a hash of the float32 bits it converts to ("-" for
// dtypes it does not convert).
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cnnc_runtime.h"

int main() {
  for (;;) {
    unsigned char lenbuf[8];
    if (std::fread(lenbuf, 1, 8, stdin) != 8) break;
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | lenbuf[i];
    // Exactly the record's bytes, in a buffer of their own, so that
    // AddressSanitizer sees any read past the end.
    unsigned char* data = new unsigned char[n ? n : 1];
    if (n && std::fread(data, 1, n, stdin) != n) return 2;
    cnnc::st::File f;
    std::string err;
    if (!cnnc::st::parse(data, size_t(n), &f, &err)) {
      std::printf("error\n");
      delete[] data;
      continue;
    }
    std::printf("ok %zu\n", f.tensors.size());
    for (const cnnc::st::Tensor& t : f.tensors) {
      for (unsigned char c : t.name) std::printf("%02x", c);
      std::printf(" %s [", t.dtype.c_str());
      for (size_t i = 0; i < t.shape.size(); i++) std::printf("%s%lld", i ? " " : "", (long long)t.shape[i]);
      std::printf("] ");
      if (t.dtype == "F32" || t.dtype == "F16" || t.dtype == "BF16") {
        const unsigned char* p = f.data + t.begin;
        const size_t count = size_t((t.end - t.begin) / uint64_t(t.size));
        uint64_t h = 14695981039346656037ull;
        for (size_t k = 0; k < count; k++) {
          float v;
          if (t.size == 4) {
            v = cnnc::st::bits_to_float(uint32_t(p[4 * k]) | uint32_t(p[4 * k + 1]) << 8 | uint32_t(p[4 * k + 2]) << 16 |
                                        uint32_t(p[4 * k + 3]) << 24);
          } else {
            uint16_t b = uint16_t(p[2 * k] | p[2 * k + 1] << 8);
            v = t.dtype == "F16" ? cnnc::st::f16_to_f32(b) : cnnc::st::bf16_to_f32(b);
          }
          uint32_t bits;
          std::memcpy(&bits, &v, 4);
          for (int i = 0; i < 4; i++) {
            h ^= (bits >> (8 * i)) & 0xff;
            h *= 1099511628211ull;
          }
        }
        std::printf("%016llx\n", (unsigned long long)h);
      } else {
        std::printf("-\n");
      }
    }
    delete[] data;
  }
  return 0;
}
