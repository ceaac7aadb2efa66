// emu.cpp implements the CPU emulation of CUDA that cuda_runtime.h in this
// directory declares; see there for what it models.
#include "cuda_runtime.h"

#include <ucontext.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <vector>

namespace cnnc_emu {

[[noreturn]] inline void die(const char* what) {
  std::fprintf(stderr, "cnnc_emu: %s\n", what);
  std::abort();
}

uint3 g_tid, g_bid;
dim3 g_bdim, g_gdim;

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

// Fibers play the CUDA threads of a block: user-space contexts on one OS
// thread, each run until it reaches __syncthreads or the end of the kernel.
// When every fiber of the block has stopped, they must all have stopped at
// the same kind of place; then they are resumed, in order of thread index.
class Fibers {
 public:
  ~Fibers() {
    for (char* s : stacks_) std::free(s);
  }
  void run_block(unsigned nt, const std::function<void()>* k, dim3 block) {
    while (stacks_.size() < nt) stacks_.push_back(static_cast<char*>(std::malloc(kStack)));
    ctx_.resize(nt);
    state_.assign(nt, kRunning);
    kernel_ = k;
    for (unsigned t = 0; t < nt; t++) {
      getcontext(&ctx_[t]);
      ctx_[t].uc_stack.ss_sp = stacks_[t];
      ctx_[t].uc_stack.ss_size = kStack;
      ctx_[t].uc_link = &sched_;
      makecontext(&ctx_[t], reinterpret_cast<void (*)()>(&Fibers::entry), 0);
    }
    tids_.resize(nt);
    for (unsigned t = 0; t < nt; t++) tids_[t] = uint3{t % block.x, t / block.x % block.y, t / (block.x * block.y)};
    for (;;) {
      for (unsigned t = 0; t < nt; t++) {
        if (state_[t] == kDone) continue;
        state_[t] = kRunning;
        cur_ = t;
        g_tid = tids_[t];
        swapcontext(&sched_, &ctx_[t]);
      }
      unsigned done = 0;
      for (unsigned t = 0; t < nt; t++) done += state_[t] == kDone;
      if (done == nt) return;
      if (done != 0)
        die("divergent __syncthreads: some threads of a block reached __syncthreads, others the end of the kernel");
    }
  }
  void sync() {
    state_[cur_] = kBarrier;
    swapcontext(&ctx_[cur_], &sched_);
  }
  bool in_kernel() const { return kernel_ != nullptr; }
  void finish() { kernel_ = nullptr; }

 private:
  static constexpr size_t kStack = 256 * 1024;
  enum State { kRunning, kBarrier, kDone };
  static void entry();
  std::vector<char*> stacks_;
  std::vector<ucontext_t> ctx_;
  std::vector<State> state_;
  std::vector<uint3> tids_;
  ucontext_t sched_;
  unsigned cur_ = 0;
  const std::function<void()>* kernel_ = nullptr;
  friend Fibers& fibers();
};

inline Fibers& fibers() {
  static Fibers f;
  return f;
}

inline void Fibers::entry() {
  Fibers& f = fibers();
  (*f.kernel_)();
  f.state_[f.cur_] = kDone;  // uc_link returns to the scheduler
}

inline void run_grid(dim3 grid, dim3 block, const std::function<void()>& k) {
  const unsigned nt = block.x * block.y * block.z;
  g_gdim = grid;
  g_bdim = block;
  for (unsigned z = 0; z < grid.z; z++)
    for (unsigned y = 0; y < grid.y; y++)
      for (unsigned x = 0; x < grid.x; x++) {
        g_bid = uint3{x, y, z};
        fibers().run_block(nt, &k, block);
      }
  fibers().finish();
}

void syncthreads() {
  if (!fibers().in_kernel()) die("__syncthreads outside a kernel");
  fibers().sync();
}

}  // namespace cnnc_emu

struct CUstream_st : cnnc_emu::Stream {};
struct CUevent_st : cnnc_emu::Event {};


void cnnc_emu::enqueue_kernel(dim3 grid, dim3 block, cudaStream_t stream, std::function<void()> kernel) {
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

cudaError_t cudaGetDeviceCount(int* count) {
  *count = cnnc_emu::state().count;
  return cnnc_emu::state().count > 0 ? cudaSuccess : cnnc_emu::fail(cudaErrorNoDevice);
}
cudaError_t cudaGetDevice(int* d) {
  *d = cnnc_emu::t_dev;
  return cudaSuccess;
}
cudaError_t cudaSetDevice(int d) {
  if (d < 0 || d >= cnnc_emu::state().count) return cnnc_emu::fail(cudaErrorInvalidDevice);
  cnnc_emu::t_dev = d;
  return cudaSuccess;
}
cudaError_t cudaDeviceCanAccessPeer(int* can, int a, int b) {
  int n = cnnc_emu::state().count;
  if (a < 0 || a >= n || b < 0 || b >= n) return cnnc_emu::fail(cudaErrorInvalidDevice);
  *can = a != b;
  return cudaSuccess;
}
cudaError_t cudaDeviceEnablePeerAccess(int peer, unsigned int) {
  auto& st = cnnc_emu::state();
  if (peer < 0 || peer >= st.count || peer == cnnc_emu::t_dev) return cnnc_emu::fail(cudaErrorInvalidDevice);
  if (!st.peers.insert({cnnc_emu::t_dev, peer}).second) return cnnc_emu::fail(cudaErrorPeerAccessAlreadyEnabled);
  return cudaSuccess;
}
cudaError_t cudaMalloc(void** p, size_t size) {
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
cudaError_t cudaFree(void* p) {
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

cudaError_t cudaMemcpy(void* dst, const void* src, size_t n, cudaMemcpyKind kind) {
  std::lock_guard<std::mutex> lk(cnnc_emu::state().mu);
  if (!cnnc_emu::check_copy(dst, src, n, kind, -1, -1)) return cnnc_emu::fail(cudaErrorInvalidValue);
  std::memcpy(dst, src, n);
  return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t n, cudaMemcpyKind kind, cudaStream_t s) {
  std::lock_guard<std::mutex> lk(cnnc_emu::state().mu);
  if (!s || s->dev != cnnc_emu::t_dev) return cnnc_emu::fail(cudaErrorInvalidResourceHandle);
  if (!cnnc_emu::check_copy(dst, src, n, kind, s->dev, s->dev)) return cnnc_emu::fail(cudaErrorInvalidValue);
  s->q.push_back(cnnc_emu::Op{cnnc_emu::Op::kRun, [=] { std::memcpy(dst, src, n); }, nullptr});
  return cudaSuccess;
}
cudaError_t cudaMemcpyPeerAsync(void* dst, int ddev, const void* src, int sdev, size_t n, cudaStream_t s) {
  std::lock_guard<std::mutex> lk(cnnc_emu::state().mu);
  if (!s || s->dev != cnnc_emu::t_dev) return cnnc_emu::fail(cudaErrorInvalidResourceHandle);
  if (!cnnc_emu::check_copy(dst, src, n, cudaMemcpyDeviceToDevice, ddev, sdev)) return cnnc_emu::fail(cudaErrorInvalidValue);
  s->q.push_back(cnnc_emu::Op{cnnc_emu::Op::kRun, [=] { std::memcpy(dst, src, n); }, nullptr});
  return cudaSuccess;
}
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned int) {
  std::lock_guard<std::mutex> lk(cnnc_emu::state().mu);
  *s = new CUstream_st();
  (*s)->dev = cnnc_emu::t_dev;
  cnnc_emu::state().streams.push_back(*s);
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t s) {
  std::lock_guard<std::mutex> lk(cnnc_emu::state().mu);
  if (!s) return cnnc_emu::fail(cudaErrorInvalidResourceHandle);
  cnnc_emu::drain(s);
  return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t s) {
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
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned int) {
  *e = new CUevent_st();
  (*e)->dev = cnnc_emu::t_dev;
  return cudaSuccess;
}
cudaError_t cudaEventDestroy(cudaEvent_t e) {
  if (!e) return cnnc_emu::fail(cudaErrorInvalidResourceHandle);
  delete e;
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s) {
  std::lock_guard<std::mutex> lk(cnnc_emu::state().mu);
  if (!e || !s || e->dev != s->dev) return cnnc_emu::fail(cudaErrorInvalidResourceHandle);
  auto m = std::make_shared<cnnc_emu::Marker>();
  e->rec = m;
  s->q.push_back(cnnc_emu::Op{cnnc_emu::Op::kRecord, nullptr, m});
  return cudaSuccess;
}
cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t e, unsigned int) {
  std::lock_guard<std::mutex> lk(cnnc_emu::state().mu);
  if (!e || !s) return cnnc_emu::fail(cudaErrorInvalidResourceHandle);
  s->q.push_back(cnnc_emu::Op{cnnc_emu::Op::kWait, nullptr, e->rec});
  return cudaSuccess;
}
cudaError_t cudaGetLastError(void) {
  cudaError_t e = cnnc_emu::state().last;
  cnnc_emu::state().last = cudaSuccess;
  return e;
}
const char* cudaGetErrorName(cudaError_t e) {
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
const char* cudaGetErrorString(cudaError_t e) { return cudaGetErrorName(e); }

