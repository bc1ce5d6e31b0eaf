// setjmp-safe wrappers over libjpeg-turbo and libpng's simplified API (see include/CImageCodecs.h).
#include "CImageCodecs.h"
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <png.h>

struct fm_jpeg_error {
  struct jpeg_error_mgr base;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

static void fm_jpeg_error_exit(j_common_ptr cinfo) {
  struct fm_jpeg_error *e = (struct fm_jpeg_error *)cinfo->err;
  (*cinfo->err->format_message)(cinfo, e->message);
  longjmp(e->jump, 1);
}

static void fm_jpeg_silent(j_common_ptr cinfo) { (void)cinfo; }

// Warnings (e.g. "premature end of data segment") are turned into errors: a truncated file must
// not silently decode to a gray-padded image.
static void fm_jpeg_emit_message(j_common_ptr cinfo, int level) {
  if (level < 0) fm_jpeg_error_exit(cinfo);
}

static void fm_set_error(char *err, size_t err_len, const char *msg) {
  if (err && err_len > 0) {
    strncpy(err, msg, err_len - 1);
    err[err_len - 1] = 0;
  }
}

static int fm_jpeg_open(struct jpeg_decompress_struct *cinfo, const uint8_t *data, size_t length) {
  jpeg_create_decompress(cinfo);
  jpeg_mem_src(cinfo, (const unsigned char *)data, (unsigned long)length);
  jpeg_read_header(cinfo, TRUE);
  int gray = cinfo->jpeg_color_space == JCS_GRAYSCALE;
  cinfo->out_color_space = gray ? JCS_GRAYSCALE : JCS_RGB;
  return gray ? 1 : 3;
}

/* The error manager every decode uses: errors longjmp to the caller's setjmp with the message kept. */
static void fm_jpeg_init_errors(struct jpeg_decompress_struct *cinfo, struct fm_jpeg_error *jerr) {
  cinfo->err = jpeg_std_error(&jerr->base);
  jerr->base.error_exit = fm_jpeg_error_exit;
  jerr->base.output_message = fm_jpeg_silent;
  jerr->base.emit_message = fm_jpeg_emit_message;
}

/* Opens the stream and sets the DCT scale (1/2, 1/4, 1/8); returns the channel count, or -1 with
   the error set and cinfo destroyed for CMYK/YCCK, which FairMed does not decode. */
static int fm_jpeg_prepare(struct jpeg_decompress_struct *cinfo, const uint8_t *data, size_t length,
                           int scale_denom, char *err, size_t err_len) {
  int ch = fm_jpeg_open(cinfo, data, length);
  if (cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK) {
    fm_set_error(err, err_len, "CMYK JPEGs are not supported");
    jpeg_destroy_decompress(cinfo);
    return -1;
  }
  if (scale_denom == 2 || scale_denom == 4 || scale_denom == 8) {
    cinfo->scale_num = 1;
    cinfo->scale_denom = (unsigned int)scale_denom;
  }
  return ch;
}

/* The dimensions at `scale_denom` and, when `out` is not NULL, the pixels decoded into `out`
   (`capacity` bytes): the one decode path of fm_jpeg_info and fm_jpeg_decode_into. */
static int fm_jpeg_read(const uint8_t *data, size_t length, int scale_denom, uint8_t *out, size_t capacity,
                        int *width, int *height, int *channels, char *err, size_t err_len) {
  struct jpeg_decompress_struct cinfo;
  struct fm_jpeg_error jerr;
  fm_jpeg_init_errors(&cinfo, &jerr);
  if (setjmp(jerr.jump)) { /* libjpeg's errors land here (setjmp must be in this frame) */
    fm_set_error(err, err_len, jerr.message);
    jpeg_destroy_decompress(&cinfo);
    return -1;
  }
  int ch = fm_jpeg_prepare(&cinfo, data, length, scale_denom, err, err_len);
  if (ch < 0) return -1;
  if (out == NULL) {
    jpeg_calc_output_dimensions(&cinfo);
  } else {
    jpeg_start_decompress(&cinfo);
    size_t stride = (size_t)cinfo.output_width * (size_t)ch;
    if (stride * cinfo.output_height > capacity) {
      fm_set_error(err, err_len, "output buffer too small");
      jpeg_destroy_decompress(&cinfo);
      return -1;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
      JSAMPROW rows[16];
      int n = 0;
      for (; n < 16 && cinfo.output_scanline + n < cinfo.output_height; n++)
        rows[n] = out + stride * (cinfo.output_scanline + n);
      jpeg_read_scanlines(&cinfo, rows, (JDIMENSION)n);
    }
    jpeg_finish_decompress(&cinfo);
  }
  *width = (int)cinfo.output_width;
  *height = (int)cinfo.output_height;
  *channels = ch;
  jpeg_destroy_decompress(&cinfo);
  return 0;
}

int fm_jpeg_info(const uint8_t *data, size_t length, int scale_denom, int *width, int *height,
                 int *channels, char *err, size_t err_len) {
  return fm_jpeg_read(data, length, scale_denom, NULL, 0, width, height, channels, err, err_len);
}

int fm_jpeg_decode_into(const uint8_t *data, size_t length, int scale_denom,
                        uint8_t *out, size_t capacity, int *width, int *height, int *channels,
                        char *err, size_t err_len) {
  if (out == NULL) {
    fm_set_error(err, err_len, "no output buffer");
    return -1;
  }
  return fm_jpeg_read(data, length, scale_denom, out, capacity, width, height, channels, err, err_len);
}

int fm_jpeg_decode(const uint8_t *data, size_t length, int scale_denom,
                   uint8_t **out, int *width, int *height, int *channels,
                   char *err, size_t err_len) {
  int w = 0, h = 0, c = 0;
  *out = NULL;
  if (fm_jpeg_info(data, length, scale_denom, &w, &h, &c, err, err_len) != 0) return -1;
  size_t capacity = (size_t)w * (size_t)h * (size_t)c;
  uint8_t *buffer = (uint8_t *)malloc(capacity ? capacity : 1);
  if (!buffer) {
    fm_set_error(err, err_len, "out of memory");
    return -1;
  }
  if (fm_jpeg_decode_into(data, length, scale_denom, buffer, capacity, width, height, channels, err, err_len) != 0) {
    free(buffer);
    return -1;
  }
  *out = buffer;
  return 0;
}

int fm_jpeg_encode(const uint8_t *pixels, int width, int height, int channels, int quality,
                   uint8_t **out, size_t *out_length, char *err, size_t err_len) {
  struct jpeg_compress_struct cinfo;
  struct fm_jpeg_error jerr;
  unsigned char *volatile mem = NULL;
  unsigned long mem_size = 0;
  *out = NULL;
  if (channels != 1 && channels != 3) {
    fm_set_error(err, err_len, "JPEG encoding needs 1 or 3 channels");
    return -1;
  }
  cinfo.err = jpeg_std_error(&jerr.base);
  jerr.base.error_exit = fm_jpeg_error_exit;
  jerr.base.output_message = fm_jpeg_silent;
  if (setjmp(jerr.jump)) {
    fm_set_error(err, err_len, jerr.message);
    jpeg_destroy_compress(&cinfo);
    free(mem);
    return -1;
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, (unsigned char **)&mem, &mem_size);
  cinfo.image_width = (JDIMENSION)width;
  cinfo.image_height = (JDIMENSION)height;
  cinfo.input_components = channels;
  cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  size_t stride = (size_t)width * (size_t)channels;
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = (JSAMPROW)(pixels + stride * cinfo.next_scanline);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  *out = (uint8_t *)mem;
  *out_length = (size_t)mem_size;
  return 0;
}

int fm_png_decode(const uint8_t *data, size_t length,
                  uint8_t **out, int *width, int *height, int *channels,
                  char *err, size_t err_len) {
  png_image image;
  memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  *out = NULL;
  if (!png_image_begin_read_from_memory(&image, data, length)) {
    fm_set_error(err, err_len, image.message);
    png_image_free(&image);
    return -1;
  }
  int color = (image.format & PNG_FORMAT_FLAG_COLOR) != 0;
  int alpha = (image.format & PNG_FORMAT_FLAG_ALPHA) != 0;
  image.format = (color ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY) | (alpha ? PNG_FORMAT_FLAG_ALPHA : 0);
  size_t in_ch = PNG_IMAGE_SAMPLE_CHANNELS(image.format);
  size_t count = (size_t)image.width * image.height;
  uint8_t *raw = (uint8_t *)malloc(count * in_ch);
  if (!raw) {
    fm_set_error(err, err_len, "out of memory");
    png_image_free(&image);
    return -1;
  }
  if (!png_image_finish_read(&image, NULL, raw, 0, NULL)) {
    fm_set_error(err, err_len, image.message);
    free(raw);
    png_image_free(&image);
    return -1;
  }
  int out_ch = color ? 3 : 1;
  if (alpha) {
    for (size_t i = 0; i < count; i++)
      for (int c = 0; c < out_ch; c++) raw[i * out_ch + c] = raw[i * in_ch + c];
  }
  *width = (int)image.width;
  *height = (int)image.height;
  *channels = out_ch;
  *out = raw;
  png_image_free(&image);
  return 0;
}

int fm_png_encode(const uint8_t *pixels, int width, int height, int channels,
                  uint8_t **out, size_t *out_length, char *err, size_t err_len) {
  png_image image;
  memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  image.width = (png_uint_32)width;
  image.height = (png_uint_32)height;
  image.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  *out = NULL;
  if (channels != 1 && channels != 3) {
    fm_set_error(err, err_len, "PNG encoding needs 1 or 3 channels");
    return -1;
  }
  png_alloc_size_t size = 0;
  if (!png_image_write_get_memory_size(image, size, 0, pixels, 0, NULL)) {
    fm_set_error(err, err_len, image.message);
    return -1;
  }
  uint8_t *buffer = (uint8_t *)malloc(size);
  if (!buffer) {
    fm_set_error(err, err_len, "out of memory");
    return -1;
  }
  if (!png_image_write_to_memory(&image, buffer, &size, 0, pixels, 0, NULL)) {
    fm_set_error(err, err_len, image.message);
    free(buffer);
    return -1;
  }
  *out = buffer;
  *out_length = (size_t)size;
  return 0;
}

void fm_free(void *p) { free(p); }
