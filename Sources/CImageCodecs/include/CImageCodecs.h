#ifndef FAIRMED_CIMAGECODECS_H
#define FAIRMED_CIMAGECODECS_H
// JPEG and PNG decode/encode that never exit or longjmp into Swift: every failure is a return code
// plus a message in `err` (libjpeg's default error handler calls exit(); this shim replaces it).
#include <stddef.h>
#include <stdint.h>

/// Decodes a JPEG held in memory to 8-bit interleaved pixels (1 channel for grayscale, else 3 RGB).
/// `scale_denom` (1, 2, 4 or 8) asks libjpeg for a DCT-domain downscale; 1 decodes at full size.
/// On success returns 0 and `*out` is malloc'ed (free with fm_free); on failure returns -1.
int fm_jpeg_decode(const uint8_t *data, size_t length, int scale_denom,
                   uint8_t **out, int *width, int *height, int *channels,
                   char *err, size_t err_len);

/// Like fm_jpeg_decode, but into a caller-provided buffer of `capacity` bytes (size it with
/// fm_jpeg_info and the same `scale_denom`).
int fm_jpeg_decode_into(const uint8_t *data, size_t length, int scale_denom,
                        uint8_t *out, size_t capacity, int *width, int *height, int *channels,
                        char *err, size_t err_len);

/// Reads only a JPEG's header: size and channel count of the decoded output.
int fm_jpeg_info(const uint8_t *data, size_t length, int scale_denom, int *width, int *height,
                 int *channels, char *err, size_t err_len);

/// Encodes 8-bit interleaved gray (1) or RGB (3) pixels as baseline JPEG at `quality` (1-100).
int fm_jpeg_encode(const uint8_t *pixels, int width, int height, int channels, int quality,
                   uint8_t **out, size_t *out_length, char *err, size_t err_len);

/// Decodes a PNG held in memory to 8-bit gray (1) or RGB (3); alpha is dropped (like Pillow's
/// convert("RGB")), palettes are expanded, 16-bit samples are reduced to 8 bits.
int fm_png_decode(const uint8_t *data, size_t length,
                  uint8_t **out, int *width, int *height, int *channels,
                  char *err, size_t err_len);

/// Encodes 8-bit gray (1) or RGB (3) pixels as PNG.
int fm_png_encode(const uint8_t *pixels, int width, int height, int channels,
                  uint8_t **out, size_t *out_length, char *err, size_t err_len);

/// Frees a buffer returned by the functions above.
void fm_free(void *p);

#endif
