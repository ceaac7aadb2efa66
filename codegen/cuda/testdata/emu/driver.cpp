// driver runs a generated network under the emulator: driver WEIGHTS IN OUT
// reads IN (raw little-endian float32, INPUT_LEN of them), runs the network
// twice (the outputs must be equal bit for bit), writes OUT, and checks the
// error paths of the C API. Compile with -DPRE=cnnc_<pkg> -DMAC=CNNC_<PKG>
// -DHEADER='"<pkg>.h"'.
#include <cstdio>
#include <cstring>
#include <vector>

#include HEADER

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define FN(name) CAT(PRE, name)
#define LEN(name) CAT(MAC, name)

static int fail(const char* what) {
  std::fprintf(stderr, "driver: %s: %s\n", what, FN(_last_error)());
  return 1;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: driver WEIGHTS IN OUT\n");
    return 2;
  }
  // Error paths: nothing to read, a corrupt file, a missing file.
  FN(_model)* m = nullptr;
  if (FN(_create)(&m, "/nonexistent/weights.safetensors") != CNNC_ERR_IO || m) return fail("missing file accepted");
  const char junk[] = "\x10\0\0\0\0\0\0\0{\"a\":1}        ";
  if (FN(_create_from_memory)(&m, junk, sizeof junk - 1) != CNNC_ERR_FORMAT || m) return fail("junk accepted");
  if (std::strstr(FN(_last_error)(), "safetensors") == nullptr) return fail("junk error message");
  const char empty[] = "\x08\0\0\0\0\0\0\0{}      ";
  // (A network without weights accepts a file without tensors.)
  int rc = FN(_create_from_memory)(&m, empty, sizeof empty - 1);
  if (rc == CNNC_OK) {
    FN(_destroy)(m);
    m = nullptr;
  } else if (rc != CNNC_ERR_WEIGHTS || m || std::strstr(FN(_last_error)(), "is missing") == nullptr) {
    return fail("empty file");
  }
  if (FN(_infer)(nullptr, nullptr, nullptr) != CNNC_ERR_ARGUMENT) return fail("null model accepted");

  if (FN(_create)(&m, argv[1]) != CNNC_OK) return fail("create");
  std::vector<float> in(LEN(_INPUT_LEN)), out(LEN(_OUTPUT_LEN)), again(LEN(_OUTPUT_LEN));
  FILE* f = std::fopen(argv[2], "rb");
  if (!f || std::fread(in.data(), sizeof(float), in.size(), f) != in.size()) return fail("reading the input");
  std::fclose(f);
  if (FN(_infer)(m, in.data(), out.data()) != CNNC_OK) return fail("infer");
  if (FN(_infer)(m, in.data(), again.data()) != CNNC_OK) return fail("second infer");
  if (std::memcmp(out.data(), again.data(), out.size() * sizeof(float)) != 0) return fail("two infers differ");
  for (int d = 0; d < LEN(_GPUS); d++)
    if (FN(_device)(m, d) < 0) return fail("device");
  FN(_destroy)(m);
  f = std::fopen(argv[3], "wb");
  if (!f || std::fwrite(out.data(), sizeof(float), out.size(), f) != out.size()) return fail("writing the output");
  std::fclose(f);
  return 0;
}
