// machine measures what this CPU can do at best, as the yardstick for the
// engines' numbers:
//
//   machine fma THREADS SECONDS   peak single-precision FMA GFLOP/s
//   machine bw  THREADS MIB       memory read bandwidth in GB/s (1e9 bytes)
//
// fma runs, on each thread, 16 independent chains of 512-bit (AVX-512) or
// 256-bit (AVX2) fused multiply-adds on registers only: no loads, no
// stores, enough chains to hide the FMA latency, so it measures the FMA
// units' throughput. One FMA on 16 float32 lanes counts 32 FLOP.
//
// bw sums a MIB-mebibyte float32 buffer (first touched by the thread that
// reads it) with vector loads and 8 accumulators, split evenly over the
// threads, best of 5 passes. On Linux the buffer asks for transparent huge
// pages (madvise MADV_HUGEPAGE), as cnnc's Models do for their weights:
// with 4 KiB pages the same loop reads 20-30% slower on the project's
// Zen 4 machine, and the yardstick should be what the memory can give.
//
// Built by bench/bench.py with: gcc -O2 -pthread machine.c -o machine
// (the vector code is selected at run time with target attributes).
#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static volatile float seed = 1.0f; // defeats constant folding
static int avx512;

// ---------------------------------------------------------------- FMA peak

#define CHAINS 16

__attribute__((target("avx512f"))) static float fma512(long iters) {
	__m512 a[CHAINS];
	__m512 m = _mm512_set1_ps(seed * 0.999999f), c = _mm512_set1_ps(seed * 1e-7f);
	for (int i = 0; i < CHAINS; i++) a[i] = _mm512_set1_ps(seed + i);
	for (long n = 0; n < iters; n++) {
#pragma GCC unroll 16
		for (int i = 0; i < CHAINS; i++) a[i] = _mm512_fmadd_ps(a[i], m, c);
	}
	__m512 s = a[0];
	for (int i = 1; i < CHAINS; i++) s = _mm512_add_ps(s, a[i]);
	return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma"))) static float fma256(long iters) {
	__m256 a[CHAINS];
	__m256 m = _mm256_set1_ps(seed * 0.999999f), c = _mm256_set1_ps(seed * 1e-7f);
	for (int i = 0; i < CHAINS; i++) a[i] = _mm256_set1_ps(seed + i);
	for (long n = 0; n < iters; n++) {
#pragma GCC unroll 16
		for (int i = 0; i < CHAINS; i++) a[i] = _mm256_fmadd_ps(a[i], m, c);
	}
	__m256 s = a[0];
	for (int i = 1; i < CHAINS; i++) s = _mm256_add_ps(s, a[i]);
	float t[8];
	_mm256_storeu_ps(t, s);
	return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}

// ---------------------------------------------------------------- bandwidth

__attribute__((target("avx512f"))) static float sum512(const float *p, size_t n) {
	__m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
	for (size_t i = 0; i + 128 <= n; i += 128) {
		a0 = _mm512_add_ps(a0, _mm512_load_ps(p + i));
		a1 = _mm512_add_ps(a1, _mm512_load_ps(p + i + 16));
		a2 = _mm512_add_ps(a2, _mm512_load_ps(p + i + 32));
		a3 = _mm512_add_ps(a3, _mm512_load_ps(p + i + 48));
		a4 = _mm512_add_ps(a4, _mm512_load_ps(p + i + 64));
		a5 = _mm512_add_ps(a5, _mm512_load_ps(p + i + 80));
		a6 = _mm512_add_ps(a6, _mm512_load_ps(p + i + 96));
		a7 = _mm512_add_ps(a7, _mm512_load_ps(p + i + 112));
	}
	a0 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
	                   _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
	return _mm512_reduce_add_ps(a0);
}

__attribute__((target("avx2"))) static float sum256(const float *p, size_t n) {
	__m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
	for (size_t i = 0; i + 64 <= n; i += 64) {
		a0 = _mm256_add_ps(a0, _mm256_load_ps(p + i));
		a1 = _mm256_add_ps(a1, _mm256_load_ps(p + i + 8));
		a2 = _mm256_add_ps(a2, _mm256_load_ps(p + i + 16));
		a3 = _mm256_add_ps(a3, _mm256_load_ps(p + i + 24));
		a4 = _mm256_add_ps(a4, _mm256_load_ps(p + i + 32));
		a5 = _mm256_add_ps(a5, _mm256_load_ps(p + i + 40));
		a6 = _mm256_add_ps(a6, _mm256_load_ps(p + i + 48));
		a7 = _mm256_add_ps(a7, _mm256_load_ps(p + i + 56));
	}
	a0 = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
	                   _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
	float t[8];
	_mm256_storeu_ps(t, a0);
	return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}

// ---------------------------------------------------------------- threads

typedef struct {
	int mode; // 0 fma, 1 bw
	long iters;
	float *buf;
	size_t n;
	pthread_barrier_t *go;
	float result;
} job;

static void *worker(void *arg) {
	job *j = arg;
	if (j->mode == 1) memset(j->buf, 0, j->n * sizeof(float)); // first touch
	pthread_barrier_wait(j->go);                                 // start together
	pthread_barrier_wait(j->go);
	if (j->mode == 0)
		j->result = avx512 ? fma512(j->iters) : fma256(j->iters);
	else
		j->result = avx512 ? sum512(j->buf, j->n) : sum256(j->buf, j->n);
	pthread_barrier_wait(j->go); // end together
	return NULL;
}

int main(int argc, char **argv) {
	if (argc != 4 || (strcmp(argv[1], "fma") && strcmp(argv[1], "bw"))) {
		fprintf(stderr, "usage: machine fma THREADS SECONDS | machine bw THREADS MIB\n");
		return 2;
	}
	__builtin_cpu_init();
	avx512 = __builtin_cpu_supports("avx512f");
	if (!avx512 && !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) {
		fprintf(stderr, "machine: this CPU has neither AVX-512 nor AVX2+FMA\n");
		return 1;
	}
	int fma = strcmp(argv[1], "fma") == 0;
	int nt = atoi(argv[2]);
	double arg = atof(argv[3]);
	if (nt < 1 || nt > 64 || arg <= 0) {
		fprintf(stderr, "machine: bad THREADS or SECONDS/MIB\n");
		return 2;
	}
	int lanes = avx512 ? 16 : 8;
	size_t total = 0;
	float *buf = NULL;
	if (!fma) {
		total = (size_t)(arg * 1024 * 1024) / sizeof(float);
		total -= total % (128 * (size_t)nt);
		size_t huge = 2 << 20;
		buf = aligned_alloc(huge, (total * sizeof(float) + huge - 1) / huge * huge);
		if (!buf) {
			fprintf(stderr, "machine: out of memory\n");
			return 1;
		}
#ifdef MADV_HUGEPAGE
		madvise(buf, total * sizeof(float), MADV_HUGEPAGE); // advice: failure leaves small pages
#endif
	}
	// Calibrate the FMA loop on one thread: iterations for ~arg/5 seconds.
	long iters = 1 << 20;
	float check = 0;
	if (fma) {
		for (;;) {
			double t = now();
			check += avx512 ? fma512(iters) : fma256(iters);
			t = now() - t;
			if (t > 0.05) {
				iters = (long)(iters * (arg / 5) / t) + 1;
				break;
			}
			iters *= 4;
		}
	}
	double best = 1e30;
	for (int pass = 0; pass < 5; pass++) {
		pthread_barrier_t go;
		pthread_barrier_init(&go, NULL, nt + 1);
		pthread_t th[64];
		job jobs[64];
		for (int i = 0; i < nt; i++) {
			jobs[i] = (job){.mode = !fma, .iters = iters, .go = &go};
			if (!fma) {
				jobs[i].n = total / nt;
				jobs[i].buf = buf + i * (total / nt);
			}
			pthread_create(&th[i], NULL, worker, &jobs[i]);
		}
		pthread_barrier_wait(&go); // all threads have touched their part
		double t = now();
		pthread_barrier_wait(&go);
		pthread_barrier_wait(&go);
		t = now() - t;
		for (int i = 0; i < nt; i++) {
			pthread_join(th[i], NULL);
			check += jobs[i].result;
		}
		pthread_barrier_destroy(&go);
		if (t < best) best = t;
	}
	if (fma) {
		double flop = (double)nt * iters * CHAINS * lanes * 2;
		printf("%.1f GFLOP/s (%d-bit FMA, %d thread(s), check %g)\n", flop / best * 1e-9, lanes * 32, nt, check);
	} else {
		printf("%.1f GB/s (%d-bit loads, %d thread(s), %.0f MiB, check %g)\n",
		       total * sizeof(float) / best * 1e-9, lanes * 32, nt, arg, check);
	}
	return 0;
}
