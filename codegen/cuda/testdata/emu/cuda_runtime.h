// A CPU emulation of the parts of CUDA cnnc's generated code uses, for
// testing that code without a GPU: compile the generated .cu as C++20 with
// -DCNNC_EMULATE and this directory first on the include path, and link
// emu.cpp, which implements what this header declares.
//
// What it models, and so what a test with it checks:
//   - kernels run on the CPU: every CUDA thread of a block is a fiber (a
//     user-space context on the host thread), the blocks of a grid run one
//     after another; __syncthreads switches fibers until every thread of
//     the block has reached it, and a block whose threads stop some at
//     __syncthreads and some at the end of the kernel (a divergent
//     __syncthreads) aborts; __shared__ variables are statics, shared by
//     the threads of the running block;
//   - every physical device has its own allocations, filled with NaNs so
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
// What it does not: real concurrency (the threads of a block interleave
// only at __syncthreads, blocks run in order, no two kernels or copies
// overlap), warp-level behaviour, memory models weaker than sequential
// consistency, shared-memory and register limits, the performance of
// anything, launch limits beyond the grid and block sizes.
#ifndef CNNC_EMU_CUDA_RUNTIME_H
#define CNNC_EMU_CUDA_RUNTIME_H

#ifndef CNNC_EMULATE
#error "emu/cuda_runtime.h needs -DCNNC_EMULATE"
#endif

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <functional>

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
  cudaErrorInvalidConfiguration = 9,
  cudaErrorNoDevice = 100,
  cudaErrorInvalidDevice = 101,
  cudaErrorInvalidResourceHandle = 400,
  cudaErrorPeerAccessAlreadyEnabled = 704,
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

typedef struct CUstream_st* cudaStream_t;
typedef struct CUevent_st* cudaEvent_t;

namespace cnnc_emu {
// The running CUDA thread's built-in variables.
extern uint3 g_tid, g_bid;
extern dim3 g_bdim, g_gdim;
void syncthreads();
// enqueue_kernel queues a launch of kernel on stream.
void enqueue_kernel(dim3 grid, dim3 block, cudaStream_t stream, std::function<void()> kernel);
template <class F>
void launch(dim3 grid, dim3 block, cudaStream_t stream, F kernel) {
  enqueue_kernel(grid, block, stream, std::function<void()>(kernel));
}
}  // namespace cnnc_emu

#define threadIdx (::cnnc_emu::g_tid)
#define blockIdx (::cnnc_emu::g_bid)
#define blockDim (::cnnc_emu::g_bdim)
#define gridDim (::cnnc_emu::g_gdim)
#define __syncthreads() ::cnnc_emu::syncthreads()

cudaError_t cudaGetDeviceCount(int* count);
cudaError_t cudaGetDevice(int* device);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaDeviceCanAccessPeer(int* canAccessPeer, int device, int peerDevice);
cudaError_t cudaDeviceEnablePeerAccess(int peerDevice, unsigned int flags);
cudaError_t cudaMalloc(void** devPtr, size_t size);
cudaError_t cudaFree(void* devPtr);
cudaError_t cudaMemcpy(void* dst, const void* src, size_t count, cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t count, cudaMemcpyKind kind, cudaStream_t stream);
cudaError_t cudaMemcpyPeerAsync(void* dst, int dstDevice, const void* src, int srcDevice, size_t count,
                                cudaStream_t stream);
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int flags);
cudaError_t cudaStreamDestroy(cudaStream_t stream);
cudaError_t cudaStreamSynchronize(cudaStream_t stream);
cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned int flags);
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int flags);
cudaError_t cudaEventDestroy(cudaEvent_t event);
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream);
cudaError_t cudaGetLastError(void);
const char* cudaGetErrorName(cudaError_t error);
const char* cudaGetErrorString(cudaError_t error);

#endif  // CNNC_EMU_CUDA_RUNTIME_H
