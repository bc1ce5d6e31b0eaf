#ifndef FAIRMED_CBLAS_SHIM_H
#define FAIRMED_CBLAS_SHIM_H
// OpenBLAS's CBLAS interface (Debian: libopenblas-dev). Only Tensor/BLAS.swift imports this.
#include <cblas.h>
#endif
