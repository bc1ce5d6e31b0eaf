#ifndef FAIRMED_CJPEG_SHIM_H
#define FAIRMED_CJPEG_SHIM_H
// libjpeg-turbo (Debian: libjpeg62-turbo-dev). Only the CImageCodecs C shim uses it directly.
#include <stdio.h>
#include <jpeglib.h>
#endif
