//go:build cuda

package gort

/*
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gort.h"

// The stand-in network's C side: what cnnc generates in <pkg>.cu, for a
// network of one layer that multiplies its 4 inputs by 4 weights on 2
// logical GPUs, both on device 0. Its weights file is the 4 weights as
// float32s in the host's byte order (not safetensors); any other length is
// CNNC_ERR_FORMAT.

struct cnnc_gort_model {
  float w[4];
};

static _Thread_local char g_error[256];
static int g_live;  // models created and not destroyed

static int fail(int code, const char* msg) {
  snprintf(g_error, sizeof g_error, "%s", msg);
  return code;
}

int cnnc_gort_create_from_memory(cnnc_gort_model** model, const void* data, size_t len) {
  if (!model || (!data && len > 0)) return fail(CNNC_ERR_ARGUMENT, "cnnc_gort_create_from_memory: null argument");
  *model = NULL;
  if (len != sizeof(float) * 4) return fail(CNNC_ERR_FORMAT, "not 4 float32s");
  cnnc_gort_model* m = malloc(sizeof *m);
  if (!m) return fail(CNNC_ERR_MEMORY, "out of host memory");
  memcpy(m->w, data, len);
  __atomic_add_fetch(&g_live, 1, __ATOMIC_SEQ_CST);
  *model = m;
  return CNNC_OK;
}

int cnnc_gort_create(cnnc_gort_model** model, const char* path) {
  if (!model || !path) return fail(CNNC_ERR_ARGUMENT, "cnnc_gort_create: null argument");
  *model = NULL;
  FILE* f = fopen(path, "rb");
  if (!f) {
    snprintf(g_error, sizeof g_error, "%s: cannot open", path);
    return CNNC_ERR_IO;
  }
  unsigned char data[64];
  size_t len = fread(data, 1, sizeof data, f);
  fclose(f);
  int rc = cnnc_gort_create_from_memory(model, data, len);
  if (rc != CNNC_OK) {
    char msg[sizeof g_error];
    snprintf(msg, sizeof msg, "%s: %s", path, g_error);
    fail(rc, msg);
  }
  return rc;
}

int cnnc_gort_infer(cnnc_gort_model* m, const float* in, float* out) {
  if (!m || !in || !out) return fail(CNNC_ERR_ARGUMENT, "cnnc_gort_infer: null argument");
  for (int i = 0; i < 4; i++) out[i] = m->w[i] * in[i];
  return CNNC_OK;
}

void cnnc_gort_destroy(cnnc_gort_model* m) {
  if (!m) return;
  free(m);
  __atomic_sub_fetch(&g_live, 1, __ATOMIC_SEQ_CST);
}

int cnnc_gort_device(const cnnc_gort_model* m, int gpu) {
  if (!m || gpu < 0 || gpu >= 2) return -1;
  return 0;
}

const char* cnnc_gort_last_error(void) { return g_error; }

static int live(void) { return __atomic_load_n(&g_live, __ATOMIC_SEQ_CST); }
*/
import "C"

// This file stands in for what codegen/cuda generates for each network
// (<pkg>_cuda.go, and the C API of <pkg>.h and <pkg>.cu in its preamble),
// so that model.go compiles and is tested here. codegen/cuda does not copy
// it.

const (
	Batch                  = 1
	InputC, InputH, InputW = 1, 2, 2
	InputLen               = Batch * InputC * InputH * InputW
	OutputSize             = InputC * InputH * InputW
	OutputLen              = Batch * OutputSize
	GPUs                   = 2
	// pkgName begins the API's error messages.
	pkgName = "gort"
)

// liveModels reports the C models created and not destroyed.
func liveModels() int { return int(C.live()) }
