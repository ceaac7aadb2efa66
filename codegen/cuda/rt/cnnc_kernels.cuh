// cnnc_kernels.cuh: the device kernels of the CUDA code cnnc generates.
//
// Every kernel is a template over one struct of compile-time constants (an
// "instance" the generated .cu defines per layer, device and batch slice):
// the layer's dimensions, its fused epilogue, the tile sizes and the part of
// the layer this launch computes (a range of groups and filters, units,
// channels or elements). The generated code instantiates each kernel once
// per distinct instance, so every loop bound and index divisor is a
// constant the compiler folds.
//
// Tensors are float32, NCHW, images contiguous: element (n, c, y, x) of a
// tensor of per-image shape C x H x W is at ((n*C + c)*H + y)*W + x. A launch
// that computes part of a layer writes only its part of the full-size output
// tensor. The semantics are those of cnnc's reference engine
// (compiler/ref), which follows PyTorch; sums are accumulated in float32.
//
// Kernels that may run in place (elementwise ones, which the memory plan
// lets write over their input) take no __restrict__ pointers. No kernel
// returns before a __syncthreads, uses warp-level intrinsics or dynamic
// shared memory: the kernels stay simple enough to check on a CPU.

#ifndef CNNC_KERNELS_CUH
#define CNNC_KERNELS_CUH

#include <cuda_runtime.h>
#include <math.h>

// CNNC_LAUNCH(kernel, grid, block, stream, args...) launches kernel, which
// must be named without a top-level comma (one template argument).
#ifdef CNNC_EMULATE
#define CNNC_LAUNCH(kernel, grid, block, stream, ...) \
  ::cnnc_emu::launch((grid), (block), (stream), [=] { kernel(__VA_ARGS__); })
#else
#define CNNC_LAUNCH(kernel, grid, block, stream, ...) \
  kernel<<<(grid), (block), 0, (stream)>>>(__VA_ARGS__)
#endif

namespace cnnc {

// The activation kinds, ir.ActKind's values.
enum {
  kActNone = 0,
  kActReLU = 1,
  kActLeakyReLU = 2,
  kActSigmoid = 3,
  kActTanh = 4,
  kActClip = 5,
  kActHardSigmoid = 6,
  kActHardSwish = 7,
  kActSiLU = 8,
  kActGELU = 9,
  kActGELUTanh = 10,
};

__host__ __device__ __forceinline__ constexpr int imin(int a, int b) { return a < b ? a : b; }
__host__ __device__ __forceinline__ constexpr int imax(int a, int b) { return a > b ? a : b; }

// clampnan is min(max(x, lo), hi) with NaN staying NaN, as in PyTorch's clamp.
__device__ __forceinline__ float clampnan(float x, float lo, float hi) { return x < lo ? lo : (x > hi ? hi : x); }

// act applies a fused activation with the reference engine's NaN rules
// (relu and clip keep NaN, leaky_relu scales everything that is not > 0)
// and constants: leaky_relu's slope a, clip's bounds [a, b], hardsigmoid's
// a·x + b.
template <int A>
__device__ __forceinline__ float act(float x, float a, float b) {
  if constexpr (A == kActReLU) {
    return x < 0.f ? 0.f : x;
  } else if constexpr (A == kActLeakyReLU) {
    return x > 0.f ? x : x * a;
  } else if constexpr (A == kActSigmoid) {
    return 1.f / (1.f + expf(-x));
  } else if constexpr (A == kActTanh) {
    return tanhf(x);
  } else if constexpr (A == kActClip) {
    return clampnan(x, a, b);
  } else if constexpr (A == kActHardSigmoid) {
    return clampnan(fmaf(a, x, b), 0.f, 1.f);
  } else if constexpr (A == kActHardSwish) {
    return x * clampnan(fmaf(x, 1.f / 6.f, 0.5f), 0.f, 1.f);
  } else if constexpr (A == kActSiLU) {
    return x / (1.f + expf(-x));
  } else if constexpr (A == kActGELU) {
    return 0.5f * x * (1.f + erff(x * 0.70710678118654752f));
  } else if constexpr (A == kActGELUTanh) {
    return 0.5f * x * (1.f + tanhf(0.79788456080286536f * fmaf(0.044715f * x, x * x, x)));
  } else {
    return x;
  }
}

// maxnan is max in which NaN wins, as in PyTorch's max pooling and softmax.
__device__ __forceinline__ float maxnan(float m, float v) { return (v > m || v != v) ? v : m; }

// conv2d is a convolution (and, with H = W = KH = KW = 1, a dense layer) as
// an implicit GEMM per group: out[M = filters][N = images x positions] =
// w[M][K = C/G x KH x KW] x im2col(in)[K][N], the im2col matrix gathered
// tile by tile into shared memory and never stored. Each block computes a
// BM x BN tile of one group, each thread a 4 x 4 sub-tile (rows and
// columns strided across the block, so that loads and stores coalesce),
// over K in steps of 16. The epilogue adds the bias and applies the
// activation.
//
// K::G0..G1 are the groups and K::M0..M1 the filters within each group
// this launch computes; w and bias hold exactly those filters' rows
// ((g-G0)*(M1-M0) + m-M0). Padding is implicit: positions outside the
// input read zero (Pad.Bottom/Right are implied by OH and OW).
// Grid: x = column tiles, y = row tiles, z = groups (y and z loop).
template <class K>
__global__ void __launch_bounds__((K::BM / 4) * (K::BN / 4))
conv2d(const float* __restrict__ in, const float* __restrict__ w, const float* __restrict__ bias,
       float* __restrict__ out) {
  constexpr int TM = 4, TN = 4, BK = 16;
  constexpr int BM = K::BM, BN = K::BN;
  constexpr int TX = BN / TN, TY = BM / TM, NT = TX * TY;
  constexpr int CG = K::C / K::G, FG = K::F / K::G;
  constexpr int KHW = K::KH * K::KW;
  constexpr int KK = CG * KHW;
  constexpr int P = K::OH * K::OW;
  constexpr int N = K::B * P;
  constexpr int MR = K::M1 - K::M0;
  constexpr int MT = (MR + BM - 1) / BM;
  constexpr int NG = K::G1 - K::G0;
  static_assert(BM % TM == 0 && BN % TN == 0, "tile sizes");
  static_assert(K::C % K::G == 0 && K::F % K::G == 0, "groups");
  static_assert(MR > 0 && NG > 0, "empty launch");

  __shared__ float As[BK][BM + 1];
  __shared__ float Bs[BK][BN];
  const int tid = threadIdx.x;
  const int tx = tid % TX, ty = tid / TX;
  const int nBase = blockIdx.x * BN;

  for (int gz = blockIdx.z; gz < NG; gz += gridDim.z) {
    const int g = K::G0 + gz;
    const float* src = in + g * CG * K::H * K::W;
    const float* wg = w + gz * MR * KK;
    for (int mt = blockIdx.y; mt < MT; mt += gridDim.y) {
      const int mBase = mt * BM;
      float acc[TM][TN];
#pragma unroll
      for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] = 0.f;

      for (int k0 = 0; k0 < KK; k0 += BK) {
        for (int i = tid; i < BM * BK; i += NT) {
          const int mm = i / BK, kk = i % BK;
          const int m = mBase + mm, k = k0 + kk;
          As[kk][mm] = (m < MR && k < KK) ? wg[m * KK + k] : 0.f;
        }
        for (int i = tid; i < BK * BN; i += NT) {
          const int kk = i / BN, nn = i % BN;
          const int k = k0 + kk, n = nBase + nn;
          float v = 0.f;
          if (k < KK && n < N) {
            const int ci = k / KHW, r = k % KHW;
            const int kh = r / K::KW, kw = r % K::KW;
            const int img = n / P, p = n % P;
            const int oy = p / K::OW, ox = p % K::OW;
            const int iy = oy * K::SH - K::PT + kh * K::DH;
            const int ix = ox * K::SW - K::PL + kw * K::DW;
            if (iy >= 0 && iy < K::H && ix >= 0 && ix < K::W)
              v = src[((img * K::C + ci) * K::H + iy) * K::W + ix];
          }
          Bs[kk][nn] = v;
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < BK; ++kk) {
          float a[TM], b[TN];
#pragma unroll
          for (int i = 0; i < TM; ++i) a[i] = As[kk][ty + i * TY];
#pragma unroll
          for (int j = 0; j < TN; ++j) b[j] = Bs[kk][tx + j * TX];
#pragma unroll
          for (int i = 0; i < TM; ++i)
#pragma unroll
            for (int j = 0; j < TN; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
        }
        __syncthreads();
      }

#pragma unroll
      for (int i = 0; i < TM; ++i) {
        const int m = mBase + ty + i * TY;
        if (m >= MR) continue;
        const float bv = bias[gz * MR + m];
        const int o = g * FG + K::M0 + m;
#pragma unroll
        for (int j = 0; j < TN; ++j) {
          const int n = nBase + tx + j * TX;
          if (n < N) {
            const int img = n / P, p = n % P;
            out[(img * K::F + o) * P + p] = act<K::ACT>(acc[i][j] + bv, K::ACTA, K::ACTB);
          }
        }
      }
    }
  }
}

// dense_gemv is a dense layer for small batches: each block of 128 threads
// computes K::UPB units for every image, its threads striding over the
// units' weight rows (float4 loads when the row length allows) and over
// the input, which each block so reads once for UPB units, then reducing in
// shared memory. It reads each weight once per call, the bound for small
// batches. Units K::U0..U1 are computed; w and bias hold exactly their rows.
template <class K>
__global__ void __launch_bounds__(128)
dense_gemv(const float* __restrict__ x, const float* __restrict__ w, const float* __restrict__ bias,
           float* __restrict__ out) {
  constexpr int NT = 128, UPB = K::UPB, B = K::B;
  constexpr int UR = K::U1 - K::U0;
  constexpr int NBLK = (UR + UPB - 1) / UPB;
  static_assert(B >= 1 && UR > 0 && UPB >= 1, "empty launch");
  __shared__ float red[UPB * B][NT];
  const int tid = threadIdx.x;
  for (int blk = blockIdx.x; blk < NBLK; blk += gridDim.x) {
    const int u0 = blk * UPB;  // the block's first unit, counted from U0
    float acc[UPB][B];
#pragma unroll
    for (int j = 0; j < UPB; ++j)
#pragma unroll
      for (int b = 0; b < B; ++b) acc[j][b] = 0.f;
    if constexpr (K::IN % 4 == 0) {
      constexpr int IN4 = K::IN / 4;
      const float4* x4 = reinterpret_cast<const float4*>(x);
      const float4* w4 = reinterpret_cast<const float4*>(w);
      for (int k = tid; k < IN4; k += NT) {
        float4 v[B];
#pragma unroll
        for (int b = 0; b < B; ++b) v[b] = x4[b * IN4 + k];
#pragma unroll
        for (int j = 0; j < UPB; ++j) {
          if (u0 + j >= UR) break;
          const float4 a = w4[(u0 + j) * IN4 + k];
#pragma unroll
          for (int b = 0; b < B; ++b) {
            acc[j][b] = fmaf(a.x, v[b].x, acc[j][b]);
            acc[j][b] = fmaf(a.y, v[b].y, acc[j][b]);
            acc[j][b] = fmaf(a.z, v[b].z, acc[j][b]);
            acc[j][b] = fmaf(a.w, v[b].w, acc[j][b]);
          }
        }
      }
    } else {
      for (int k = tid; k < K::IN; k += NT) {
        float v[B];
#pragma unroll
        for (int b = 0; b < B; ++b) v[b] = x[b * K::IN + k];
#pragma unroll
        for (int j = 0; j < UPB; ++j) {
          if (u0 + j >= UR) break;
          const float a = w[(u0 + j) * K::IN + k];
#pragma unroll
          for (int b = 0; b < B; ++b) acc[j][b] = fmaf(a, v[b], acc[j][b]);
        }
      }
    }
#pragma unroll
    for (int j = 0; j < UPB; ++j)
#pragma unroll
      for (int b = 0; b < B; ++b) red[j * B + b][tid] = acc[j][b];
    __syncthreads();
#pragma unroll
    for (int s = NT / 2; s > 0; s >>= 1) {
      if (tid < s) {
#pragma unroll
        for (int r = 0; r < UPB * B; ++r) red[r][tid] += red[r][tid + s];
      }
      __syncthreads();
    }
    if (tid < UPB * B) {
      const int j = tid / B, b = tid % B;
      if (u0 + j < UR) out[b * K::U + K::U0 + u0 + j] = act<K::ACT>(red[tid][0] + bias[u0 + j], K::ACTA, K::ACTB);
    }
    __syncthreads();
  }
}

// lrn_at is local response normalisation of element (c, pix) of one image
// (channel stride HW): x / (LK + LSCALE * sum of squares)^LBETA over the
// channels c - LSIZE/2 .. c + (LSIZE-1)/2 that exist; LSCALE is alpha/size.
template <class K, int HW>
__device__ __forceinline__ float lrn_at(const float* __restrict__ img, int c, int pix) {
  const int lo = imax(c - K::LSIZE / 2, 0), hi = imin(c + (K::LSIZE - 1) / 2, K::C - 1);
  float s = 0.f;
  for (int cc = lo; cc <= hi; ++cc) {
    const float v = img[cc * HW + pix];
    s = fmaf(v, v, s);
  }
  return img[c * HW + pix] / powf(K::LK + K::LSCALE * s, K::LBETA);
}

// pool2d is max or average pooling with PyTorch's semantics (ceil mode,
// count_pad, padding that never wins a max), one thread per output element
// of channels K::C0..C1. With K::LRN it first normalises each input element
// it reads (an LRN the passes fused into the max pooling).
template <class K>
__global__ void pool2d(const float* __restrict__ in, float* __restrict__ out) {
  constexpr unsigned NC = K::C1 - K::C0;
  constexpr unsigned TOTAL = unsigned(K::B) * NC * K::OH * K::OW;
  constexpr int HW = K::H * K::W;
  for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < TOTAL; i += gridDim.x * blockDim.x) {
    const int ox = i % K::OW;
    unsigned t = i / K::OW;
    const int oy = t % K::OH;
    t /= K::OH;
    const int c = K::C0 + int(t % NC);
    const int img = t / NC;
    const float* im = in + img * (K::C * HW);
    const int hs = oy * K::SH - K::PT, ws = ox * K::SW - K::PL;
    const int h0 = imax(hs, 0), h1 = imin(hs + K::KH, K::H);
    const int w0 = imax(ws, 0), w1 = imin(ws + K::KW, K::W);
    float r;
    if constexpr (K::MAX) {
      float m = -INFINITY;
      for (int y = h0; y < h1; ++y)
        for (int x = w0; x < w1; ++x) {
          float v;
          if constexpr (K::LRN) {
            v = lrn_at<K, HW>(im, c, y * K::W + x);
          } else {
            v = im[c * HW + y * K::W + x];
          }
          m = maxnan(m, v);
        }
      r = m;
    } else {
      float s = 0.f;
      for (int y = h0; y < h1; ++y)
        for (int x = w0; x < w1; ++x) s += im[c * HW + y * K::W + x];
      int div;
      if constexpr (K::COUNTPAD) {
        const int he = imin(hs + K::KH, K::H + K::PB), we = imin(ws + K::KW, K::W + K::PR);
        div = (he - hs) * (we - ws);
      } else {
        div = (h1 - h0) * (w1 - w0);
      }
      r = s / float(div);
    }
    out[((img * K::C + c) * K::OH + oy) * K::OW + ox] = act<K::ACT>(r, K::ACTA, K::ACTB);
  }
}

// lrn is a stand-alone local response normalisation of channels K::C0..C1
// (spatial or flat: HW = 1), one thread per output element.
template <class K>
__global__ void lrn(const float* __restrict__ in, float* __restrict__ out) {
  constexpr int HW = K::H * K::W;
  constexpr unsigned NC = K::C1 - K::C0;
  constexpr unsigned TOTAL = unsigned(K::B) * NC * HW;
  for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < TOTAL; i += gridDim.x * blockDim.x) {
    const int pix = i % HW;
    const unsigned t = i / HW;
    const int c = K::C0 + int(t % NC);
    const int img = t / NC;
    const int base = img * (K::C * HW);
    out[base + c * HW + pix] = act<K::ACT>(lrn_at<K, HW>(in + base, c, pix), K::ACTA, K::ACTB);
  }
}

// prelu is PReLU, y = x if x > 0 else slope[c]·x, for channels K::C0..C1;
// it may run in place.
template <class K>
__global__ void prelu(const float* in, const float* __restrict__ slope, float* out) {
  constexpr int HW = K::H * K::W;
  constexpr unsigned NC = K::C1 - K::C0;
  constexpr unsigned TOTAL = unsigned(K::B) * NC * HW;
  for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < TOTAL; i += gridDim.x * blockDim.x) {
    const int pix = i % HW;
    const unsigned t = i / HW;
    const int c = K::C0 + int(t % NC);
    const int img = t / NC;
    const int idx = (img * K::C + c) * HW + pix;
    const float x = in[idx];
    out[idx] = x > 0.f ? x : x * slope[c];
  }
}

// scale_shift is an unfolded batchnorm, y = x*scale[c] + shift[c], then the
// activation, for channels K::C0..C1; it may run in place.
template <class K>
__global__ void scale_shift(const float* in, const float* __restrict__ scale, const float* __restrict__ shift,
                            float* out) {
  constexpr int HW = K::H * K::W;
  constexpr unsigned NC = K::C1 - K::C0;
  constexpr unsigned TOTAL = unsigned(K::B) * NC * HW;
  for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < TOTAL; i += gridDim.x * blockDim.x) {
    const int pix = i % HW;
    const unsigned t = i / HW;
    const int c = K::C0 + int(t % NC);
    const int img = t / NC;
    const int idx = (img * K::C + c) * HW + pix;
    out[idx] = act<K::ACT>(fmaf(in[idx], scale[c], shift[c]), K::ACTA, K::ACTB);
  }
}

// activate applies an activation to elements K::E0..E1 of every image (of
// K::E elements each); it may run in place.
template <class K>
__global__ void activate(const float* in, float* out) {
  constexpr unsigned NE = K::E1 - K::E0;
  constexpr unsigned TOTAL = unsigned(K::B) * NE;
  for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < TOTAL; i += gridDim.x * blockDim.x) {
    const int idx = int(i / NE) * K::E + K::E0 + int(i % NE);
    out[idx] = act<K::ACT>(in[idx], K::ACTA, K::ACTB);
  }
}

// Ptrs passes an add's inputs by value.
template <int N>
struct Ptrs {
  const float* p[N];
};

// add sums K::NIN tensors elementwise over elements K::E0..E1 of every
// image, then applies the activation.
template <class K>
__global__ void add(Ptrs<K::NIN> in, float* out) {
  constexpr unsigned NE = K::E1 - K::E0;
  constexpr unsigned TOTAL = unsigned(K::B) * NE;
  for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < TOTAL; i += gridDim.x * blockDim.x) {
    const int idx = int(i / NE) * K::E + K::E0 + int(i % NE);
    float s = in.p[0][idx];
#pragma unroll
    for (int k = 1; k < K::NIN; ++k) s += in.p[k][idx];
    out[idx] = act<K::ACT>(s, K::ACTA, K::ACTB);
  }
}

// copy copies elements K::IOFF + K::E0..E1 of every image of a tensor of
// K::EIN elements per image to offset K::OFF of a tensor of K::EOUT
// elements per image, applying the activation: one input of a concat, a
// slice, or a flatten that does not share its input's storage.
template <class K>
__global__ void copy(const float* __restrict__ in, float* __restrict__ out) {
  constexpr unsigned NE = K::E1 - K::E0;
  constexpr unsigned TOTAL = unsigned(K::B) * NE;
  for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < TOTAL; i += gridDim.x * blockDim.x) {
    const int img = i / NE, e = K::E0 + int(i % NE);
    out[img * K::EOUT + K::OFF + e] = act<K::ACT>(in[img * K::EIN + K::IOFF + e], K::ACTA, K::ACTB);
  }
}

// arith is a binary elementwise op (K::OP 0 add, 1 sub, 2 mul, 3 div) with
// broadcasting, then the activation, over elements K::E0..E1 of every image
// of the output (K::E elements per image, K::H x K::W positions): operand a
// (K::EA elements per image) is read with strides K::SAC, K::SAH, K::SAW
// along C, H, W (0 where it is broadcast), b likewise. out may be a or b
// where that operand is not broadcast.
template <class K>
__global__ void arith(const float* a, const float* b, float* out) {
  constexpr unsigned NE = K::E1 - K::E0;
  constexpr unsigned TOTAL = unsigned(K::B) * NE;
  for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < TOTAL; i += gridDim.x * blockDim.x) {
    const int img = i / NE, e = K::E0 + int(i % NE);
    const int c = e / (K::H * K::W), y = e / K::W % K::H, x = e % K::W;
    const float u = a[img * K::EA + c * K::SAC + y * K::SAH + x * K::SAW];
    const float v = b[img * K::EB + c * K::SBC + y * K::SBH + x * K::SBW];
    float r;
    if constexpr (K::OP == 0) {
      r = u + v;
    } else if constexpr (K::OP == 1) {
      r = u - v;
    } else if constexpr (K::OP == 2) {
      r = u * v;
    } else {
      r = u / v;
    }
    out[img * K::E + e] = act<K::ACT>(r, K::ACTA, K::ACTB);
  }
}

// layernorm normalises over the K::C channels at every position of every
// image, one thread per position: y = (x − mean)/sqrt(var + K::EPS)·w[c] +
// b[c], the variance biased.
template <class K>
__global__ void layernorm(const float* __restrict__ in, const float* __restrict__ w, const float* __restrict__ b,
                          float* __restrict__ out) {
  constexpr int HW = K::H * K::W;
  constexpr unsigned TOTAL = unsigned(K::B) * HW;
  for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < TOTAL; i += gridDim.x * blockDim.x) {
    const int img = i / HW, pix = i % HW;
    const float* x = in + img * (K::C * HW) + pix;
    float m = 0.f;
    for (int c = 0; c < K::C; ++c) m += x[c * HW];
    m /= float(K::C);
    float v = 0.f;
    for (int c = 0; c < K::C; ++c) {
      const float d = x[c * HW] - m;
      v = fmaf(d, d, v);
    }
    const float inv = 1.f / sqrtf(v / float(K::C) + K::EPS);
    float* y = out + img * (K::C * HW) + pix;
    for (int c = 0; c < K::C; ++c) y[c * HW] = fmaf((x[c * HW] - m) * inv, w[c], b[c]);
  }
}

// shuffle is ShuffleNet's channel shuffle: channel c of the output is
// channel (c mod K::G)·K::C/K::G + c/K::G of the input.
template <class K>
__global__ void shuffle(const float* __restrict__ in, float* __restrict__ out) {
  constexpr int HW = K::H * K::W;
  constexpr unsigned TOTAL = unsigned(K::B) * K::C * HW;
  for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < TOTAL; i += gridDim.x * blockDim.x) {
    const int pix = i % HW;
    const int c = i / HW % K::C, img = i / HW / K::C;
    const int from = (c % K::G) * (K::C / K::G) + c / K::G;
    out[(img * K::C + c) * HW + pix] = in[(img * K::C + from) * HW + pix];
  }
}

// softmax normalises over the K::C channels at every position of every
// image: one block of K::NT threads per position, reducing the maximum and
// then the sum of exponentials in shared memory.
template <class K>
__global__ void __launch_bounds__(K::NT) softmax(const float* __restrict__ in, float* __restrict__ out) {
  constexpr int HW = K::H * K::W;
  constexpr int NT = K::NT;
  __shared__ float red[NT];
  const int tid = threadIdx.x;
  for (int pos = blockIdx.x; pos < K::B * HW; pos += gridDim.x) {
    const int img = pos / HW, pix = pos % HW;
    const float* x = in + img * (K::C * HW) + pix;
    float* y = out + img * (K::C * HW) + pix;
    float m = -INFINITY;
    for (int c = tid; c < K::C; c += NT) m = maxnan(m, x[c * HW]);
    red[tid] = m;
    __syncthreads();
#pragma unroll
    for (int s = NT / 2; s > 0; s >>= 1) {
      if (tid < s) red[tid] = maxnan(red[tid], red[tid + s]);
      __syncthreads();
    }
    m = red[0];
    __syncthreads();
    float sum = 0.f;
    for (int c = tid; c < K::C; c += NT) sum += expf(x[c * HW] - m);
    red[tid] = sum;
    __syncthreads();
#pragma unroll
    for (int s = NT / 2; s > 0; s >>= 1) {
      if (tid < s) red[tid] += red[tid + s];
      __syncthreads();
    }
    sum = red[0];
    for (int c = tid; c < K::C; c += NT) y[c * HW] = expf(x[c * HW] - m) / sum;
    __syncthreads();
  }
}

// global_avg averages each plane of channels K::C0..C1 (one block of K::NT
// threads per plane), then applies the activation.
template <class K>
__global__ void __launch_bounds__(K::NT) global_avg(const float* __restrict__ in, float* __restrict__ out) {
  constexpr int HW = K::H * K::W;
  constexpr int NT = K::NT;
  constexpr int NC = K::C1 - K::C0;
  __shared__ float red[NT];
  const int tid = threadIdx.x;
  for (int pl = blockIdx.x; pl < K::B * NC; pl += gridDim.x) {
    const int img = pl / NC, c = K::C0 + pl % NC;
    const float* x = in + (img * K::C + c) * HW;
    float s = 0.f;
    for (int i = tid; i < HW; i += NT) s += x[i];
    red[tid] = s;
    __syncthreads();
#pragma unroll
    for (int h = NT / 2; h > 0; h >>= 1) {
      if (tid < h) red[tid] += red[tid + h];
      __syncthreads();
    }
    if (tid == 0) out[img * K::C + c] = act<K::ACT>(red[0] / float(HW), K::ACTA, K::ACTB);
    __syncthreads();
  }
}

}  // namespace cnnc

#endif  // CNNC_KERNELS_CUH
