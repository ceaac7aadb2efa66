/* gort.h stands in for the C API cnnc generates for each network (<pkg>.h)
   with the same functions and status codes, so that model.go compiles and
   is tested here. network.go implements it for a stand-in network, "gort":
   out[i] = w[i] * in[i] for a weight w of 4 floats. codegen/cuda does not
   copy it. */

#ifndef CNNC_GORT_H
#define CNNC_GORT_H

#include <stddef.h>

#ifndef CNNC_STATUS_DEFINED
#define CNNC_STATUS_DEFINED
/* Status codes, shared by every network cnnc compiles. */
enum {
  CNNC_OK = 0,
  CNNC_ERR_ARGUMENT = 1, /* a null pointer */
  CNNC_ERR_IO = 2,       /* the weights file cannot be read */
  CNNC_ERR_FORMAT = 3,   /* the weights are not a valid safetensors file */
  CNNC_ERR_WEIGHTS = 4,  /* a tensor is missing or has the wrong shape or dtype */
  CNNC_ERR_CUDA = 5,     /* a CUDA call failed (the message names it) */
  CNNC_ERR_MEMORY = 6,   /* out of host memory */
  CNNC_ERR_INTERNAL = 7
};
#endif

typedef struct cnnc_gort_model cnnc_gort_model;

int cnnc_gort_create(cnnc_gort_model** model, const char* path);
int cnnc_gort_create_from_memory(cnnc_gort_model** model, const void* data, size_t len);
int cnnc_gort_infer(cnnc_gort_model* model, const float* in, float* out);
void cnnc_gort_destroy(cnnc_gort_model* model);
int cnnc_gort_device(const cnnc_gort_model* model, int gpu);
const char* cnnc_gort_last_error(void);

#endif /* CNNC_GORT_H */
