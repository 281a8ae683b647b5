/*
 * qr.c - QR codes for enrollment (see qr.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <png.h>
#include <qrencode.h>

#include "qr.h"

#define QUIET_ZONE 4		/* modules of white border the standard asks for */
#define PNG_SCALE 8		/* pixels per module */

int qr_format_parse(char const *name, qr_format_t *format)
{
	if (strcmp(name, "ansi") == 0) *format = QR_ANSI;
	else if (strcmp(name, "png") == 0) *format = QR_PNG;
	else if (strcmp(name, "svg") == 0) *format = QR_SVG;
	else return -1;
	return 0;
}

static QRcode *encode(char const *text)
{
	return QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
}

/* Dark module at (x, y), counting the quiet zone; outside the symbol is light. */
static int dark(QRcode const *qr, int x, int y)
{
	x -= QUIET_ZONE;
	y -= QUIET_ZONE;
	if (x < 0 || y < 0 || x >= qr->width || y >= qr->width) return 0;
	return qr->data[y * qr->width + x] & 1;
}

int qr_write_ansi(char const *text, FILE *out)
{
	QRcode *qr = encode(text);
	int size, x, y;

	if (!qr) return -1;
	size = qr->width + 2 * QUIET_ZONE;
	/* Two rows per line: upper half block for the top module, lower for the bottom one. */
	for (y = 0; y < size; y += 2) {
		fputs("\033[30;47m", out);	/* black on white, whatever the terminal's colours */
		for (x = 0; x < size; x++) {
			int top = dark(qr, x, y), bottom = dark(qr, x, y + 1);

			fputs(top && bottom ? "\xe2\x96\x88" : top ? "\xe2\x96\x80" : bottom ? "\xe2\x96\x84" : " ", out);
		}
		fputs("\033[0m\n", out);
	}
	QRcode_free(qr);
	return ferror(out) ? -1 : 0;
}

static FILE *open_private(char const *path, char *err, size_t errlen)
{
	int fd;
	FILE *f;

	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return NULL;
	}
	f = fdopen(fd, "wb");
	if (!f) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		close(fd);
	}
	return f;
}

static int write_svg(QRcode const *qr, FILE *f)
{
	int size = qr->width + 2 * QUIET_ZONE, x, y;

	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
		"shape-rendering=\"crispEdges\">\n<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n<path fill=\"#000\" d=\"",
		size, size, size * PNG_SCALE, size * PNG_SCALE, size, size);
	for (y = 0; y < size; y++) {
		for (x = 0; x < size; x++) {
			if (dark(qr, x, y)) fprintf(f, "M%d %dh1v1h-1z", x, y);
		}
	}
	fputs("\"/>\n</svg>\n", f);
	return ferror(f) ? -1 : 0;
}

static int write_png(QRcode const *qr, FILE *f)
{
	int size = qr->width + 2 * QUIET_ZONE;
	int pixels = size * PNG_SCALE;
	png_structp png;
	png_infop info;
	png_bytep row;
	int x, y;

	row = calloc((size_t)pixels, 1);
	if (!row) return -1;
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	info = png ? png_create_info_struct(png) : NULL;
	if (!png || !info || setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, info ? &info : NULL);
		free(row);
		return -1;
	}
	png_init_io(png, f);
	png_set_IHDR(png, info, (png_uint_32)pixels, (png_uint_32)pixels, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (y = 0; y < pixels; y++) {
		for (x = 0; x < pixels; x++) row[x] = dark(qr, x / PNG_SCALE, y / PNG_SCALE) ? 0x00 : 0xff;
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	free(row);
	return 0;
}

int qr_write_file(char const *text, qr_format_t format, char const *path, char *err, size_t errlen)
{
	QRcode *qr = encode(text);
	FILE *f;
	int rc;

	if (!qr) {
		snprintf(err, errlen, "cannot encode the QR code: %s", strerror(errno));
		return -1;
	}
	f = open_private(path, err, errlen);
	if (!f) {
		QRcode_free(qr);
		return -1;
	}
	rc = format == QR_PNG ? write_png(qr, f) : format == QR_SVG ? write_svg(qr, f) : qr_write_ansi(text, f);
	if (fclose(f) != 0) rc = -1;
	QRcode_free(qr);
	if (rc != 0) {
		snprintf(err, errlen, "cannot write %s", path);
		(void)unlink(path);
	}
	return rc;
}
