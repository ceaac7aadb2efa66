// A CPU emulation of the parts of CUDA cnnc's generated code uses, for
// testing that code without a GPU: compile the generated .cu as C++20 with
// -DCNNC_EMULATE and this directory first on the include path.
//
// What it models, and so what a test with it checks:
//   - kernels run on CPU threads, one per CUDA thread of a block, the
//     blocks of a grid one after another; __syncthreads is a barrier, and a
//     barrier reached by some threads at __syncthreads and by others at the
//     end of the kernel (a divergent __syncthreads) aborts; __shared__
//     variables are statics, shared by the threads of the running block;
//   - every logical device has its own allocations, filled with NaNs so
//     that reading memory nothing wrote shows in the output; copies check
//     that their pointers lie inside allocations of the devices they name,
//     kernel launches and copies that their stream belongs to the current
//     device, event records that event and stream share a device;
//   - streams are queues and run lazily, when the host synchronises: at each
//     step a random stream (CNNC_EMU_SEED) whose next operation may run
//     runs it. A cudaStreamWaitEvent blocks its stream until the work the
//     event captured has run. So any order CUDA allows may be the one
//     tested, and a missing wait shows as a wrong result in some order;
//   - CNNC_EMU_DEVICES (default 1) physical devices.
//
// What it does not: real concurrency within a kernel (each block runs on
// its threads, but no two kernels or copies overlap), warp-level
// behaviour, memory models weaker than sequential consistency, the
// performance of anything, launch limits beyond the grid and block sizes.
#ifndef CNNC_EMU_CUDA_RUNTIME_H
#define CNNC_EMU_CUDA_RUNTIME_H

#ifndef CNNC_EMULATE
#error "emu/cuda_runtime.h needs -DCNNC_EMULATE"
#endif

#include <math.h>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#define __host__
#define __device__
#define __global__
#define __shared__ static
#define __constant__
#define __forceinline__ inline
#define __launch_bounds__(...)

struct uint3 {
  unsigned int x, y, z;
};
struct dim3 {
  unsigned int x, y, z;
  constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1) : x(vx), y(vy), z(vz) {}
};
struct alignas(16) float4 {
  float x, y, z, w;
};

typedef enum cudaError {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorNoDevice = 100,
  cudaErrorInvalidDevice = 101,
  cudaErrorInvalidResourceHandle = 400,
  cudaErrorPeerAccessAlreadyEnabled = 704,
  cudaErrorInvalidConfiguration = 9,
} cudaError_t;

enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4,
};

#define cudaStreamNonBlocking 0x01
#define cudaEventDisableTiming 0x02

struct CUstream_st;
struct CUevent_st;

namespace cnnc_emu {

[[noreturn]] inline void die(const char* what) {
  std::fprintf(stderr, "cnnc_emu: %s\n", what);
  std::abort();
}

// Barrier is a reusable barrier that also checks that every thread of a
// phase arrived at the same kind of place.
class Barrier {
 public:
  explicit Barrier(unsigned n) : n_(n) {}
  void wait(int site) {
    std::unique_lock<std::mutex> lk(mu_);
    if (count_ == 0) {
      site_ = site;
    } else if (site_ != site) {
      die("divergent __syncthreads: some threads of a block reached __syncthreads, others the end of the kernel");
    }
    const unsigned long gen = gen_;
    if (++count_ == n_) {
      count_ = 0;
      gen_++;
      cv_.notify_all();
      return;
    }
    cv_.wait(lk, [&] { return gen_ != gen; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  unsigned n_, count_ = 0;
  unsigned long gen_ = 0;
  int site_ = 0;
};

inline thread_local uint3 t_tid, t_bid;
inline dim3 g_bdim, g_gdim;
inline Barrier* g_bar = nullptr;

struct Alloc {
  int dev;
  size_t size;
};
struct Marker {
  bool done = false;
};
struct Op {
  enum Kind { kRun, kRecord, kWait } kind;
  std::function<void()> fn;
  std::shared_ptr<Marker> marker;
};

struct State {
  std::mutex mu;  // one host thread at a time uses the emulator
  int count = 1;
  std::map<uintptr_t, Alloc> allocs;
  std::vector<struct Stream*> streams;
  std::set<std::pair<int, int>> peers;
  std::mt19937_64 rng;
  cudaError_t last = cudaSuccess;
  State() {
    if (const char* s = std::getenv("CNNC_EMU_DEVICES")) count = std::atoi(s);
    unsigned long long seed = 1;
    if (const char* s = std::getenv("CNNC_EMU_SEED")) seed = std::strtoull(s, nullptr, 10);
    rng.seed(seed);
  }
};
inline State& state() {
  static State s;
  return s;
}
inline thread_local int t_dev = 0;

struct Stream {
  int dev;
  std::deque<Op> q;
};
struct Event {
  int dev;
  std::shared_ptr<Marker> rec;
};

inline cudaError_t fail(cudaError_t e) {
  state().last = e;
  return e;
}

// find returns the allocation holding [p, p+n), or null.
inline const Alloc* find(const void* p, size_t n) {
  auto& a = state().allocs;
  auto it = a.upper_bound(uintptr_t(p));
  if (it == a.begin()) return nullptr;
  --it;
  if (uintptr_t(p) < it->first || uintptr_t(p) + n > it->first + it->second.size) return nullptr;
  return &it->second;
}

inline bool runnable(const Stream* s) {
  if (s->q.empty()) return false;
  const Op& o = s->q.front();
  return o.kind != Op::kWait || !o.marker || o.marker->done;
}

// step runs one operation of a random runnable stream; false if none.
inline bool step() {
  State& st = state();
  std::vector<Stream*> ready;
  for (Stream* s : st.streams)
    if (runnable(s)) ready.push_back(s);
  if (ready.empty()) return false;
  Stream* s = ready[st.rng() % ready.size()];
  Op o = std::move(s->q.front());
  s->q.pop_front();
  switch (o.kind) {
    case Op::kRun:
      o.fn();
      break;
    case Op::kRecord:
      o.marker->done = true;
      break;
    case Op::kWait:
      break;
  }
  return true;
}

inline void drain(Stream* s) {
  while (!s->q.empty())
    if (!step()) die("deadlock: a stream waits for an event that will never complete");
}

inline void run_grid(dim3 grid, dim3 block, const std::function<void()>& k) {
  const unsigned nt = block.x * block.y * block.z;
  g_gdim = grid;
  g_bdim = block;
  Barrier bar(nt);
  g_bar = &bar;
  std::vector<std::thread> ts;
  ts.reserve(nt);
  for (unsigned t = 0; t < nt; t++) {
    ts.emplace_back([&, t] {
      t_tid = uint3{t % block.x, t / block.x % block.y, t / (block.x * block.y)};
      for (unsigned z = 0; z < grid.z; z++)
        for (unsigned y = 0; y < grid.y; y++)
          for (unsigned x = 0; x < grid.x; x++) {
            t_bid = uint3{x, y, z};
            k();
            bar.wait(1);  // the end of the block: its shared memory is free again
          }
    });
  }
  for (auto& t : ts) t.join();
  g_bar = nullptr;
}

template <class F>
void launch(dim3 grid, dim3 block, CUstream_st* stream, F kernel);

inline void syncthreads() {
  if (!g_bar) die("__syncthreads outside a kernel");
  g_bar->wait(0);
}

}  // namespace cnnc_emu

typedef struct CUstream_st* cudaStream_t;
typedef struct CUevent_st* cudaEvent_t;
struct CUstream_st : cnnc_emu::Stream {};
struct CUevent_st : cnnc_emu::Event {};

#define threadIdx (::cnnc_emu::t_tid)
#define blockIdx (::cnnc_emu::t_bid)
#define blockDim (::cnnc_emu::g_bdim)
#define gridDim (::cnnc_emu::g_gdim)
#define __syncthreads() ::cnnc_emu::syncthreads()

template <class F>
void cnnc_emu::launch(dim3 grid, dim3 block, cudaStream_t stream, F kernel) {
  std::lock_guard<std::mutex> lk(state().mu);
  if (!stream || stream->dev != t_dev) {
    fail(cudaErrorInvalidResourceHandle);
    return;
  }
  if (grid.x < 1 || grid.y < 1 || grid.z < 1 || grid.y > 65535 || grid.z > 65535 || block.x * block.y * block.z < 1 ||
      block.x * block.y * block.z > 1024) {
    fail(cudaErrorInvalidConfiguration);
    return;
  }
  stream->q.push_back(Op{Op::kRun, [grid, block, kernel] { run_grid(grid, block, kernel); }, nullptr});
}

inline cudaError_t cudaGetDeviceCount(int* count) {
  *count = cnnc_emu::state().count;
  return cnnc_emu::state().count > 0 ? cudaSuccess : cnnc_emu::fail(cudaErrorNoDevice);
}
inline cudaError_t cudaGetDevice(int* d) {
  *d = cnnc_emu::t_dev;
  return cudaSuccess;
}
inline cudaError_t cudaSetDevice(int d) {
  if (d < 0 || d >= cnnc_emu::state().count) return cnnc_emu::fail(cudaErrorInvalidDevice);
  cnnc_emu::t_dev = d;
  return cudaSuccess;
}
inline cudaError_t cudaDeviceCanAccessPeer(int* can, int a, int b) {
  int n = cnnc_emu::state().count;
  if (a < 0 || a >= n || b < 0 || b >= n) return cnnc_emu::fail(cudaErrorInvalidDevice);
  *can = a != b;
  return cudaSuccess;
}
inline cudaError_t cudaDeviceEnablePeerAccess(int peer, unsigned int) {
  auto& st = cnnc_emu::state();
  if (peer < 0 || peer >= st.count || peer == cnnc_emu::t_dev) return cnnc_emu::fail(cudaErrorInvalidDevice);
  if (!st.peers.insert({cnnc_emu::t_dev, peer}).second) return cnnc_emu::fail(cudaErrorPeerAccessAlreadyEnabled);
  return cudaSuccess;
}
inline cudaError_t cudaMalloc(void** p, size_t size) {
  std::lock_guard<std::mutex> lk(cnnc_emu::state().mu);
  if (size == 0) return cnnc_emu::fail(cudaErrorInvalidValue);
  size_t rounded = (size + 255) / 256 * 256;
  void* q = std::aligned_alloc(256, rounded);
  if (!q) return cnnc_emu::fail(cudaErrorMemoryAllocation);
  std::memset(q, 0xff, rounded);  // NaN: reading what nothing wrote shows
  cnnc_emu::state().allocs[uintptr_t(q)] = cnnc_emu::Alloc{cnnc_emu::t_dev, size};
  *p = q;
  return cudaSuccess;
}
inline cudaError_t cudaFree(void* p) {
  std::lock_guard<std::mutex> lk(cnnc_emu::state().mu);
  auto& a = cnnc_emu::state().allocs;
  auto it = a.find(uintptr_t(p));
  if (it == a.end()) return cnnc_emu::fail(cudaErrorInvalidValue);
  a.erase(it);
  std::free(p);
  return cudaSuccess;
}

namespace cnnc_emu {
// check_copy checks a copy's device pointers: those the kind says are on a
// device must lie inside an allocation on the device expected (-1: any).
inline bool check_copy(void* dst, const void* src, size_t n, cudaMemcpyKind kind, int ddev, int sdev) {
  if (kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice) {
    const Alloc* a = find(dst, n);
    if (!a || (ddev >= 0 && a->dev != ddev)) return false;
  }
  if (kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice) {
    const Alloc* a = find(src, n);
    if (!a || (sdev >= 0 && a->dev != sdev)) return false;
  }
  return true;
}
}  // namespace cnnc_emu

inline cudaError_t cudaMemcpy(void* dst, const void* src, size_t n, cudaMemcpyKind kind) {
  std::lock_guard<std::mutex> lk(cnnc_emu::state().mu);
  if (!cnnc_emu::check_copy(dst, src, n, kind, -1, -1)) return cnnc_emu::fail(cudaErrorInvalidValue);
  std::memcpy(dst, src, n);
  return cudaSuccess;
}
inline cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t n, cudaMemcpyKind kind, cudaStream_t s) {
  std::lock_guard<std::mutex> lk(cnnc_emu::state().mu);
  if (!s || s->dev != cnnc_emu::t_dev) return cnnc_emu::fail(cudaErrorInvalidResourceHandle);
  if (!cnnc_emu::check_copy(dst, src, n, kind, s->dev, s->dev)) return cnnc_emu::fail(cudaErrorInvalidValue);
  s->q.push_back(cnnc_emu::Op{cnnc_emu::Op::kRun, [=] { std::memcpy(dst, src, n); }, nullptr});
  return cudaSuccess;
}
inline cudaError_t cudaMemcpyPeerAsync(void* dst, int ddev, const void* src, int sdev, size_t n, cudaStream_t s) {
  std::lock_guard<std::mutex> lk(cnnc_emu::state().mu);
  if (!s || s->dev != cnnc_emu::t_dev) return cnnc_emu::fail(cudaErrorInvalidResourceHandle);
  if (!cnnc_emu::check_copy(dst, src, n, cudaMemcpyDeviceToDevice, ddev, sdev)) return cnnc_emu::fail(cudaErrorInvalidValue);
  s->q.push_back(cnnc_emu::Op{cnnc_emu::Op::kRun, [=] { std::memcpy(dst, src, n); }, nullptr});
  return cudaSuccess;
}
inline cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned int) {
  std::lock_guard<std::mutex> lk(cnnc_emu::state().mu);
  *s = new CUstream_st();
  (*s)->dev = cnnc_emu::t_dev;
  cnnc_emu::state().streams.push_back(*s);
  return cudaSuccess;
}
inline cudaError_t cudaStreamSynchronize(cudaStream_t s) {
  std::lock_guard<std::mutex> lk(cnnc_emu::state().mu);
  if (!s) return cnnc_emu::fail(cudaErrorInvalidResourceHandle);
  cnnc_emu::drain(s);
  return cudaSuccess;
}
inline cudaError_t cudaStreamDestroy(cudaStream_t s) {
  std::lock_guard<std::mutex> lk(cnnc_emu::state().mu);
  auto& v = cnnc_emu::state().streams;
  for (size_t i = 0; i < v.size(); i++)
    if (v[i] == s) {
      cnnc_emu::drain(s);
      v.erase(v.begin() + i);
      delete s;
      return cudaSuccess;
    }
  return cnnc_emu::fail(cudaErrorInvalidResourceHandle);
}
inline cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned int) {
  *e = new CUevent_st();
  (*e)->dev = cnnc_emu::t_dev;
  return cudaSuccess;
}
inline cudaError_t cudaEventDestroy(cudaEvent_t e) {
  if (!e) return cnnc_emu::fail(cudaErrorInvalidResourceHandle);
  delete e;
  return cudaSuccess;
}
inline cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s) {
  std::lock_guard<std::mutex> lk(cnnc_emu::state().mu);
  if (!e || !s || e->dev != s->dev) return cnnc_emu::fail(cudaErrorInvalidResourceHandle);
  auto m = std::make_shared<cnnc_emu::Marker>();
  e->rec = m;
  s->q.push_back(cnnc_emu::Op{cnnc_emu::Op::kRecord, nullptr, m});
  return cudaSuccess;
}
inline cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t e, unsigned int) {
  std::lock_guard<std::mutex> lk(cnnc_emu::state().mu);
  if (!e || !s) return cnnc_emu::fail(cudaErrorInvalidResourceHandle);
  s->q.push_back(cnnc_emu::Op{cnnc_emu::Op::kWait, nullptr, e->rec});
  return cudaSuccess;
}
inline cudaError_t cudaGetLastError(void) {
  cudaError_t e = cnnc_emu::state().last;
  cnnc_emu::state().last = cudaSuccess;
  return e;
}
inline const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess:
      return "cudaSuccess";
    case cudaErrorInvalidValue:
      return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation:
      return "cudaErrorMemoryAllocation";
    case cudaErrorNoDevice:
      return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice:
      return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle:
      return "cudaErrorInvalidResourceHandle";
    case cudaErrorPeerAccessAlreadyEnabled:
      return "cudaErrorPeerAccessAlreadyEnabled";
    case cudaErrorInvalidConfiguration:
      return "cudaErrorInvalidConfiguration";
  }
  return "cudaErrorUnknown";
}
inline const char* cudaGetErrorString(cudaError_t e) { return cudaGetErrorName(e); }

#endif  // CNNC_EMU_CUDA_RUNTIME_H
