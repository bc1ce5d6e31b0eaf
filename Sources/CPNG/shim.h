#ifndef FAIRMED_CPNG_SHIM_H
#define FAIRMED_CPNG_SHIM_H
// libpng 1.6 (Debian: libpng-dev). Only the CImageCodecs C shim uses it directly.
#include <png.h>
#endif
