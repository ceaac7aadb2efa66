// cnnc_runtime.h: the host-side runtime of the CUDA code cnnc generates: a
// strict safetensors reader, binding a file's tensors to the tensors a
// network reads, batchnorm folding and error messages. Plain C++17, no CUDA.
//
// The reader accepts exactly the files cnnc's own reader
// (compiler/tensor.ReadSafetensors) accepts: an 8-byte little-endian header
// length of at most 100,000,000 that fits the file, a UTF-8 JSON object
// (strict RFC 8259; duplicate keys, unknown fields, lone surrogates and
// trailing bytes are errors) mapping names to {dtype, shape, data_offsets}
// and an optional "__metadata__" of strings, each tensor's size agreeing
// with its shape and dtype, and the tensors tiling the data area exactly.
// Every index is checked before it is used; sizes are checked for overflow.

#ifndef CNNC_RUNTIME_H
#define CNNC_RUNTIME_H

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace cnnc {
namespace st {

// The safetensors dtypes by name, as in compiler/tensor; Size 0 marks the
// sub-byte types, whose tensors cannot be sized.
struct DTypeInfo {
  const char* name;
  int size;
};
static const DTypeInfo kDTypes[] = {
    {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"F8_E8M0", 1}, {"I16", 2},
    {"U16", 2},  {"F16", 2}, {"BF16", 2}, {"I32", 4},     {"U32", 4},     {"F32", 4},     {"F64", 8},
    {"C64", 8},  {"I64", 8}, {"U64", 8}, {"F4", 0},      {"F6_E2M3", 0}, {"F6_E3M2", 0},
};

struct Tensor {
  std::string name;
  std::string dtype;
  int size = 0;  // bytes per element
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // offsets into the data area, validated
};

// File is a parsed safetensors file. data points into the caller's buffer,
// which must outlive it.
struct File {
  std::vector<Tensor> tensors;  // sorted by offset
  std::map<std::string, size_t> index;
  std::map<std::string, std::string> metadata;
  const unsigned char* data = nullptr;
  uint64_t data_len = 0;
};

static const uint64_t kMaxHeader = 100000000;
static const size_t kMaxRank = 64;
static const uint64_t kMaxInt = uint64_t(std::numeric_limits<int64_t>::max());

inline std::string quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += char(c);
    }
  }
  return out + "\"";
}

// valid_utf8 is Go's utf8.Valid: no overlong forms, surrogates or values
// beyond U+10FFFF.
inline bool valid_utf8(const unsigned char* s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t len;
    unsigned lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else {
      return false;
    }
    if (n - i < len) return false;
    if (s[i + 1] < lo || s[i + 1] > hi) return false;
    for (size_t k = 2; k < len; k++)
      if (s[i + k] < 0x80 || s[i + k] > 0xbf) return false;
    i += len;
  }
  return true;
}

// Scanner reads the header's JSON in place, value by value.
class Scanner {
 public:
  Scanner(const unsigned char* s, size_t n) : s_(s), n_(n) {}

  enum Kind { kEnd, kObject, kArray, kString, kNumber, kTrue, kFalse, kNull, kInvalid };

  void skip_space() {
    while (pos_ < n_ && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) pos_++;
  }
  Kind next() {
    skip_space();
    if (pos_ >= n_) return kEnd;
    unsigned char c = s_[pos_];
    if (c == '{') return kObject;
    if (c == '[') return kArray;
    if (c == '"') return kString;
    if (c == '-' || (c >= '0' && c <= '9')) return kNumber;
    if (c == 't') return kTrue;
    if (c == 'f') return kFalse;
    if (c == 'n') return kNull;
    return kInvalid;
  }
  bool consume(unsigned char c) {
    skip_space();
    if (pos_ < n_ && s_[pos_] == c) {
      pos_++;
      return true;
    }
    return false;
  }
  bool at_end() {
    skip_space();
    return pos_ == n_;
  }
  size_t pos() const { return pos_; }

  std::string syntax(const std::string& where, const std::string& what) const {
    return "safetensors: " + where + ": invalid JSON at byte " + std::to_string(pos_) + " of the header: " + what;
  }

  // str reads a string at its opening quote.
  bool str(const std::string& where, std::string* out, std::string* err) {
    out->clear();
    size_t i = pos_ + 1;
    while (i < n_) {
      unsigned char c = s_[i];
      if (c == '"') {
        pos_ = i + 1;
        return true;
      }
      if (c < 0x20) {
        pos_ = i;
        *err = syntax(where, "control character in a string");
        return false;
      }
      if (c != '\\') {
        out->push_back(char(c));
        i++;
        continue;
      }
      if (i + 1 >= n_) break;
      unsigned char e = s_[i + 1];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out->push_back(char(e));
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          uint32_t r;
          if (!hex4(i + 2, &r)) {
            pos_ = i;
            *err = syntax(where, "invalid \\u escape");
            return false;
          }
          if (r >= 0xd800 && r < 0xe000) {
            uint32_t r2 = 0;
            if (r < 0xdc00 && i + 12 <= n_ && s_[i + 6] == '\\' && s_[i + 7] == 'u') {
              if (!hex4(i + 8, &r2)) r2 = 0;
            }
            if (r2 < 0xdc00 || r2 > 0xdfff) {
              pos_ = i;
              *err = syntax(where, "lone UTF-16 surrogate in a \\u escape");
              return false;
            }
            r = 0x10000 + ((r - 0xd800) << 10) + (r2 - 0xdc00);
            i += 6;
          }
          append_utf8(out, r);
          i += 6;
          continue;
        }
        default:
          pos_ = i;
          *err = syntax(where, "invalid escape sequence");
          return false;
      }
      i += 2;
    }
    pos_ = n_;
    *err = syntax(where, "unterminated string");
    return false;
  }

  // number reads a number, checking the JSON grammar, and returns its text.
  bool number(const std::string& where, std::string* out, std::string* err) {
    size_t i = pos_, start = pos_;
    auto digits = [&]() {
      size_t k = 0;
      while (i < n_ && s_[i] >= '0' && s_[i] <= '9') {
        i++;
        k++;
      }
      return k;
    };
    if (i < n_ && s_[i] == '-') i++;
    if (i < n_ && s_[i] == '0') {
      i++;
    } else if (digits() == 0) {
      pos_ = i;
      *err = syntax(where, "invalid number");
      return false;
    }
    if (i < n_ && s_[i] == '.') {
      i++;
      if (digits() == 0) {
        pos_ = i;
        *err = syntax(where, "invalid number");
        return false;
      }
    }
    if (i < n_ && (s_[i] == 'e' || s_[i] == 'E')) {
      i++;
      if (i < n_ && (s_[i] == '+' || s_[i] == '-')) i++;
      if (digits() == 0) {
        pos_ = i;
        *err = syntax(where, "invalid number");
        return false;
      }
    }
    pos_ = i;
    out->assign(reinterpret_cast<const char*>(s_ + start), i - start);
    return true;
  }

  bool literal(const std::string& where, const char* word, std::string* err) {
    size_t len = std::strlen(word);
    if (n_ - pos_ < len || std::memcmp(s_ + pos_, word, len) != 0) {
      *err = syntax(where, std::string("invalid literal, expected ") + word);
      return false;
    }
    pos_ += len;
    return true;
  }

  // object reads an object, calling member(key, err) at each value.
  template <class F>
  bool object(const std::string& where, F member, std::string* err) {
    if (!consume('{')) {
      *err = syntax(where, "expected '{'");
      return false;
    }
    if (consume('}')) return true;
    for (;;) {
      if (next() != kString) {
        *err = syntax(where, "expected a string key");
        return false;
      }
      std::string key;
      if (!str(where, &key, err)) return false;
      if (!consume(':')) {
        *err = syntax(where, "expected ':' after key " + quote(key));
        return false;
      }
      if (!member(key, err)) return false;
      if (consume(',')) continue;
      if (consume('}')) return true;
      *err = syntax(where, "expected ',' or '}'");
      return false;
    }
  }

  template <class F>
  bool array(const std::string& where, F elem, std::string* err) {
    if (!consume('[')) {
      *err = syntax(where, "expected '['");
      return false;
    }
    if (consume(']')) return true;
    for (;;) {
      if (!elem(err)) return false;
      if (consume(',')) continue;
      if (consume(']')) return true;
      *err = syntax(where, "expected ',' or ']'");
      return false;
    }
  }

 private:
  bool hex4(size_t at, uint32_t* r) const {
    if (at > n_ || n_ - at < 4) return false;
    uint32_t v = 0;
    for (size_t k = 0; k < 4; k++) {
      unsigned char c = s_[at + k];
      uint32_t d;
      if (c >= '0' && c <= '9')
        d = c - '0';
      else if (c >= 'a' && c <= 'f')
        d = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        d = c - 'A' + 10;
      else
        return false;
      v = v << 4 | d;
    }
    *r = v;
    return true;
  }
  static void append_utf8(std::string* out, uint32_t r) {
    if (r < 0x80) {
      out->push_back(char(r));
    } else if (r < 0x800) {
      out->push_back(char(0xc0 | r >> 6));
      out->push_back(char(0x80 | (r & 0x3f)));
    } else if (r < 0x10000) {
      out->push_back(char(0xe0 | r >> 12));
      out->push_back(char(0x80 | (r >> 6 & 0x3f)));
      out->push_back(char(0x80 | (r & 0x3f)));
    } else {
      out->push_back(char(0xf0 | r >> 18));
      out->push_back(char(0x80 | (r >> 12 & 0x3f)));
      out->push_back(char(0x80 | (r >> 6 & 0x3f)));
      out->push_back(char(0x80 | (r & 0x3f)));
    }
  }

  const unsigned char* s_;
  size_t n_;
  size_t pos_ = 0;
};

// parse_uint parses a JSON number that must be a non-negative integer
// without fraction or exponent, fitting 64 bits.
inline bool parse_uint(const std::string& lit, uint64_t* v) {
  if (lit.empty() || lit[0] == '-' || lit.find_first_of(".eE") != std::string::npos) return false;
  uint64_t x = 0;
  for (char c : lit) {
    uint64_t d = uint64_t(c - '0');
    if (x > (std::numeric_limits<uint64_t>::max() - d) / 10) return false;
    x = x * 10 + d;
  }
  *v = x;
  return true;
}

inline bool parse_uints(Scanner& p, const std::string& where, const std::string& field, size_t limit,
                        std::vector<uint64_t>* out, std::string* err) {
  if (p.next() != Scanner::kArray) {
    *err = "safetensors: " + where + ": " + field + " must be an array of integers";
    return false;
  }
  out->clear();
  return p.array(
      where,
      [&](std::string* e) {
        if (out->size() == limit) {
          *e = "safetensors: " + where + ": " + field + " has more than " + std::to_string(limit) + " elements";
          return false;
        }
        if (p.next() != Scanner::kNumber) {
          *e = "safetensors: " + where + ": " + field + " must be an array of integers";
          return false;
        }
        std::string lit;
        if (!p.number(where, &lit, e)) return false;
        uint64_t v;
        if (!parse_uint(lit, &v)) {
          *e = "safetensors: " + where + ": " + field + ": " + lit + " is not a non-negative 64-bit integer";
          return false;
        }
        out->push_back(v);
        return true;
      },
      err);
}

inline bool parse_entry(Scanner& p, const std::string& name, uint64_t data_len, Tensor* t, std::string* err) {
  const std::string where = "tensor " + quote(name);
  auto fail = [&](const std::string& msg) {
    *err = "safetensors: " + where + ": " + msg;
    return false;
  };
  if (p.next() != Scanner::kObject) return fail("entry must be an object with dtype, shape and data_offsets");
  std::string dtype;
  std::vector<uint64_t> shape, offsets;
  bool has_dtype = false, has_shape = false, has_offsets = false;
  bool ok = p.object(
      where,
      [&](const std::string& field, std::string* e) {
        if (field == "dtype") {
          if (has_dtype) return (*e = "safetensors: " + where + ": duplicate field \"dtype\"", false);
          has_dtype = true;
          if (p.next() != Scanner::kString) return (*e = "safetensors: " + where + ": dtype must be a string", false);
          return p.str(where, &dtype, e);
        }
        if (field == "shape") {
          if (has_shape) return (*e = "safetensors: " + where + ": duplicate field \"shape\"", false);
          has_shape = true;
          return parse_uints(p, where, field, kMaxRank, &shape, e);
        }
        if (field == "data_offsets") {
          if (has_offsets) return (*e = "safetensors: " + where + ": duplicate field \"data_offsets\"", false);
          has_offsets = true;
          return parse_uints(p, where, field, 2, &offsets, e);
        }
        *e = "safetensors: " + where + ": unknown field " + quote(field) + " (want only dtype, shape and data_offsets)";
        return false;
      },
      err);
  if (!ok) return false;
  if (!has_dtype) return fail("missing field \"dtype\"");
  if (!has_shape) return fail("missing field \"shape\"");
  if (!has_offsets) return fail("missing field \"data_offsets\"");
  int size = -1;
  for (const DTypeInfo& d : kDTypes)
    if (dtype == d.name) size = d.size;
  if (size < 0) return fail("unknown dtype " + quote(dtype));
  // Elements: the product of the non-zero dimensions must fit an int64
  // even when another dimension is zero.
  uint64_t elems = 1;
  bool zero = false;
  for (uint64_t d : shape) {
    if (d > kMaxInt) return fail("shape: a dimension is too large");
    if (d == 0) {
      zero = true;
      continue;
    }
    if (elems > kMaxInt / d) return fail("shape has too many elements");
    elems *= d;
  }
  if (zero) elems = 0;
  if (size > 0 && elems > kMaxInt / uint64_t(size)) return fail("shape is too large for its dtype");
  const uint64_t need = elems * uint64_t(size);
  if (offsets.size() != 2) return fail("data_offsets must hold exactly 2 numbers");
  const uint64_t begin = offsets[0], end = offsets[1];
  if (begin > end) return fail("data_offsets end before they begin");
  if (end > data_len) return fail("data_offsets extend past the end of the data area");
  if (end - begin != need) return fail("data_offsets hold " + std::to_string(end - begin) + " bytes, but its shape and dtype need " + std::to_string(need));
  t->name = name;
  t->dtype = dtype;
  t->size = size;
  t->shape.assign(shape.begin(), shape.end());
  t->begin = begin;
  t->end = end;
  return true;
}

inline bool parse_metadata(Scanner& p, std::map<std::string, std::string>* meta, std::string* err) {
  const std::string where = "__metadata__";
  Scanner::Kind k = p.next();
  if (k == Scanner::kNull) return p.literal(where, "null", err);
  if (k != Scanner::kObject) {
    *err = "safetensors: __metadata__ must be an object of strings";
    return false;
  }
  return p.object(
      where,
      [&](const std::string& key, std::string* e) {
        if (meta->count(key)) return (*e = "safetensors: __metadata__ has a duplicate key " + quote(key), false);
        if (p.next() != Scanner::kString)
          return (*e = "safetensors: __metadata__ key " + quote(key) + ": value must be a string", false);
        std::string v;
        if (!p.str(where, &v, e)) return false;
        (*meta)[key] = v;
        return true;
      },
      err);
}

// parse validates a whole safetensors file held in memory.
inline bool parse(const unsigned char* buf, size_t len, File* f, std::string* err) {
  *f = File();
  if (len < 8) {
    *err = "safetensors: file is " + std::to_string(len) + " bytes, too short to hold the 8-byte header length";
    return false;
  }
  uint64_t n = 0;
  for (int i = 7; i >= 0; i--) n = n << 8 | buf[i];
  if (n > kMaxHeader) {
    *err = "safetensors: header length " + std::to_string(n) + " exceeds the limit of " + std::to_string(kMaxHeader) + " bytes";
    return false;
  }
  if (n > uint64_t(len - 8)) {
    *err = "safetensors: header length " + std::to_string(n) + " exceeds the " + std::to_string(len - 8) + " bytes that follow it";
    return false;
  }
  const unsigned char* header = buf + 8;
  const uint64_t data_len = uint64_t(len - 8) - n;
  if (!valid_utf8(header, size_t(n))) {
    *err = "safetensors: header is not valid UTF-8";
    return false;
  }
  if (n == 0 || header[0] != '{') {
    *err = "safetensors: header does not start with '{'";
    return false;
  }
  Scanner p(header, size_t(n));
  std::set<std::string> seen;
  bool have_meta = false;
  bool ok = p.object(
      "header",
      [&](const std::string& key, std::string* e) {
        if (seen.count(key)) {
          if (key == "__metadata__") return (*e = "safetensors: header has a duplicate __metadata__ key", false);
          return (*e = "safetensors: tensor " + quote(key) + ": duplicate entry in the header", false);
        }
        seen.insert(key);
        if (key == "__metadata__") {
          have_meta = true;
          return parse_metadata(p, &f->metadata, e);
        }
        Tensor t;
        if (!parse_entry(p, key, data_len, &t, e)) return false;
        f->tensors.push_back(t);
        return true;
      },
      err);
  if (!ok) return false;
  (void)have_meta;
  if (!p.at_end()) {
    *err = "safetensors: unexpected data after the header's JSON object, at byte " + std::to_string(p.pos());
    return false;
  }
  std::sort(f->tensors.begin(), f->tensors.end(), [](const Tensor& a, const Tensor& b) {
    if (a.begin != b.begin) return a.begin < b.begin;
    if (a.end != b.end) return a.end < b.end;
    return a.name < b.name;
  });
  uint64_t pos = 0;
  for (size_t i = 0; i < f->tensors.size(); i++) {
    const Tensor& t = f->tensors[i];
    if (t.begin < pos) {
      *err = "safetensors: tensor " + quote(t.name) + ": data_offsets overlap tensor " + quote(f->tensors[i - 1].name);
      return false;
    }
    if (t.begin > pos) {
      *err = "safetensors: tensor " + quote(t.name) + ": data_offsets leave a gap of " + std::to_string(t.begin - pos) + " bytes";
      return false;
    }
    pos = t.end;
  }
  if (pos != data_len) {
    *err = "safetensors: " + std::to_string(data_len - pos) + " bytes at the end of the data area belong to no tensor";
    return false;
  }
  for (size_t i = 0; i < f->tensors.size(); i++) f->index[f->tensors[i].name] = i;
  f->data = header + n;
  f->data_len = data_len;
  return true;
}

// f16_to_f32 and bf16_to_f32 convert exactly, as compiler/tensor does.
inline float bits_to_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline float f16_to_f32(uint16_t h) {
  uint32_t sign = uint32_t(h >> 15) << 31;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  if (exp == 0x1f) return bits_to_float(sign | 0x7f800000u | mant << 13);
  if (exp == 0) {
    if (mant == 0) return bits_to_float(sign);
    // Subnormal: normalise, lowering the exponent once per shift.
    uint32_t e = 127 - 15 + 1;
    while ((mant & 0x400) == 0) {
      mant <<= 1;
      e--;
    }
    return bits_to_float(sign | e << 23 | (mant & 0x3ff) << 13);
  }
  return bits_to_float(sign | (exp + 127 - 15) << 23 | mant << 13);
}
inline float bf16_to_f32(uint16_t h) { return bits_to_float(uint32_t(h) << 16); }

// Want is one tensor a network reads, in PyTorch's layout.
struct Want {
  const char* name;
  int rank;
  int64_t dims[4];
};

inline std::string shape_string(const int64_t* d, size_t n) {
  std::string s = "[";
  for (size_t i = 0; i < n; i++) s += (i ? " " : "") + std::to_string(d[i]);
  return s + "]";
}

// bind checks f against wants and converts every wanted tensor to float32,
// in the order of wants. All problems are reported, one a line.
inline bool bind(const File& f, const Want* wants, size_t n, std::vector<std::vector<float>>* out, std::string* err) {
  std::string msg;
  out->assign(n, std::vector<float>());
  for (size_t i = 0; i < n; i++) {
    const Want& w = wants[i];
    auto it = f.index.find(w.name);
    const std::string want_shape = shape_string(w.dims, size_t(w.rank));
    std::string problem;
    if (it == f.index.end()) {
      problem = "tensor " + quote(w.name) + " (shape " + want_shape + ") is missing";
    } else {
      const Tensor& t = f.tensors[it->second];
      bool same = t.shape.size() == size_t(w.rank);
      for (int k = 0; same && k < w.rank; k++) same = t.shape[k] == w.dims[k];
      if (!same) {
        problem = "tensor " + quote(w.name) + " has shape " + shape_string(t.shape.data(), t.shape.size()) + ", want " + want_shape;
      } else if (t.dtype != "F32" && t.dtype != "F16" && t.dtype != "BF16") {
        problem = "tensor " + quote(w.name) + " has dtype " + t.dtype + "; want F32, F16 or BF16";
      } else {
        const unsigned char* p = f.data + t.begin;
        const size_t count = size_t((t.end - t.begin) / uint64_t(t.size));
        std::vector<float>& v = (*out)[i];
        v.resize(count);
        for (size_t k = 0; k < count; k++) {
          if (t.size == 4) {
            v[k] = bits_to_float(uint32_t(p[4 * k]) | uint32_t(p[4 * k + 1]) << 8 | uint32_t(p[4 * k + 2]) << 16 |
                                 uint32_t(p[4 * k + 3]) << 24);
          } else {
            uint16_t h = uint16_t(p[2 * k] | p[2 * k + 1] << 8);
            v[k] = t.dtype == "F16" ? f16_to_f32(h) : bf16_to_f32(h);
          }
        }
      }
    }
    if (!problem.empty()) msg += (msg.empty() ? "" : "\n") + problem;
  }
  if (!msg.empty()) {
    *err = msg;
    return false;
  }
  return true;
}

// read_file reads a whole file; errors start with the path.
inline bool read_file(const char* path, std::vector<unsigned char>* out, std::string* err) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *err = std::string(path) + ": cannot open: " + std::strerror(errno);
    return false;
  }
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  if (size < 0) {
    *err = std::string(path) + ": cannot determine the size";
    return false;
  }
  in.seekg(0, std::ios::beg);
  out->resize(size_t(size));
  if (size > 0 && !in.read(reinterpret_cast<char*>(out->data()), size)) {
    *err = std::string(path) + ": read error";
    return false;
  }
  return true;
}

}  // namespace st

// bn_scale_shift turns batchnorm statistics into y = x*scale + shift, as
// compiler/params does: scale = gamma/sqrt(var+eps) in double, rounded.
inline void bn_scale_shift(const std::vector<float>& gamma, const std::vector<float>& beta,
                           const std::vector<float>& mean, const std::vector<float>& var, double eps,
                           std::vector<float>* scale, std::vector<float>* shift) {
  const size_t c = gamma.size();
  scale->resize(c);
  shift->resize(c);
  for (size_t i = 0; i < c; i++) {
    const double sc = double(gamma[i]) / std::sqrt(double(var[i]) + eps);
    (*scale)[i] = float(sc);
    (*shift)[i] = float(double(beta[i]) - double(mean[i]) * sc);
  }
}

// fold_bn folds y = x*scale + shift into a layer of out output rows:
// W'[o,...] = W[o,...]*scale[o], b'[o] = b[o]*scale[o] + shift[o].
inline void fold_bn(std::vector<float>* w, std::vector<float>* b, const std::vector<float>& scale,
                    const std::vector<float>& shift) {
  const size_t out = b->size(), per = w->size() / out;
  for (size_t o = 0; o < out; o++) {
    const double sc = scale[o];
    for (size_t i = o * per; i < (o + 1) * per; i++) (*w)[i] = float(double((*w)[i]) * sc);
    (*b)[o] = float(double((*b)[o]) * sc + double(shift[o]));
  }
}

}  // namespace cnnc

#endif  // CNNC_RUNTIME_H
