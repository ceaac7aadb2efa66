// A stand-in for the CUDA toolkit's cuda_runtime.h, for checking cnnc's
// generated CUDA code with clang where no CUDA toolkit is installed
// (clang++ -x cuda -nocudainc -nocudalib). It declares exactly what the
// generated code uses, with the toolkit's names, types and values:
//
//   - in device compilations, the CUDA keywords (as clang's attributes),
//     the built-in variables (clang's own header), the vector types, and
//     the float math functions as calls into libdevice (__nv_*), as the
//     toolkit's headers do; the PTX then declares them .extern, to be
//     linked with libdevice by a real build;
//   - for the host side, the runtime API's declarations. Nothing here is
//     defined: the host side is only type-checked (-fsyntax-only).
//
// Compiling against this header proves that the code is valid CUDA C++ as
// clang reads it and that the device code lowers to PTX; it proves nothing
// about the values the code computes.
#ifndef CNNC_SHIM_CUDA_RUNTIME_H
#define CNNC_SHIM_CUDA_RUNTIME_H

#ifndef __CUDA__
#error "shim/cuda_runtime.h is for clang's CUDA mode (-x cuda)"
#endif

// The toolkit's header brings in the C library's, as these do.
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define __host__ __attribute__((host))
#define __device__ __attribute__((device))
#define __global__ __attribute__((global))
#define __shared__ __attribute__((shared))
#define __constant__ __attribute__((constant))
#define __forceinline__ __inline__ __attribute__((always_inline))
#define __launch_bounds__(...) __attribute__((launch_bounds(__VA_ARGS__)))

struct uint3 {
  unsigned int x, y, z;
};
struct dim3 {
  unsigned int x, y, z;
  __host__ __device__ constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1)
      : x(vx), y(vy), z(vz) {}
};
struct __attribute__((aligned(16))) float4 {
  float x, y, z, w;
};

#include <__clang_cuda_builtin_vars.h>

// Device math: the libdevice functions the toolkit's headers call.
extern "C" __device__ float __nv_expf(float);
extern "C" __device__ float __nv_tanhf(float);
extern "C" __device__ float __nv_powf(float, float);
extern "C" __device__ float __nv_sqrtf(float);
extern "C" __device__ float __nv_erff(float);
__device__ inline float erff(float x) { return __nv_erff(x); }
__device__ inline float expf(float x) { return __nv_expf(x); }
__device__ inline float tanhf(float x) { return __nv_tanhf(x); }
__device__ inline float powf(float x, float y) { return __nv_powf(x, y); }
__device__ inline float fmaf(float x, float y, float z) { return __builtin_fmaf(x, y, z); }
__device__ inline float sqrtf(float x) { return __nv_sqrtf(x); }

// The runtime API, as far as the generated code uses it.
typedef enum cudaError {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidDevice = 101,
  cudaErrorInvalidResourceHandle = 400,
  cudaErrorPeerAccessAlreadyEnabled = 704,
  cudaErrorNoDevice = 100,
} cudaError_t;

enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4,
};

typedef struct CUstream_st* cudaStream_t;
typedef struct CUevent_st* cudaEvent_t;

#define cudaStreamNonBlocking 0x01
#define cudaEventDisableTiming 0x02

extern "C" {
cudaError_t cudaGetDeviceCount(int* count);
cudaError_t cudaGetDevice(int* device);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaDeviceCanAccessPeer(int* canAccessPeer, int device, int peerDevice);
cudaError_t cudaDeviceEnablePeerAccess(int peerDevice, unsigned int flags);
cudaError_t cudaMalloc(void** devPtr, size_t size);
cudaError_t cudaFree(void* devPtr);
cudaError_t cudaMemcpy(void* dst, const void* src, size_t count, enum cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t count, enum cudaMemcpyKind kind,
                            cudaStream_t stream);
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
// What clang's kernel launches (<<<...>>>) call on the host side: with no
// CUDA installation clang assumes an old toolkit and calls cudaConfigureCall.
cudaError_t cudaConfigureCall(dim3 gridSize, dim3 blockSize, size_t sharedMem, cudaStream_t stream);
int __cudaPushCallConfiguration(dim3 gridSize, dim3 blockSize, size_t sharedMem, cudaStream_t stream);
cudaError_t __cudaPopCallConfiguration(dim3* gridSize, dim3* blockSize, size_t* sharedMem, void* stream);
cudaError_t cudaLaunchKernel(const void* func, dim3 gridDim, dim3 blockDim, void** args, size_t sharedMem,
                             cudaStream_t stream);
}

#endif  // CNNC_SHIM_CUDA_RUNTIME_H
