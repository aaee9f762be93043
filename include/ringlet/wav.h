/*
 * wav.h - audio files through libsndfile: read any format libsndfile knows
 * (WAV with 8/16/24/32-bit PCM or float, any rate, any channel count; also
 * AIFF, FLAC, ...) as 8 kHz mono 16-bit samples, and write 8 kHz mono 16-bit
 * PCM WAV files.
 *
 * Reading mixes the channels (their mean) and resamples with a windowed-sinc
 * interpolator whose cut-off sits below the lower of the two Nyquist
 * frequencies (0.45 of the lower rate), so a 44.1 kHz file loses what
 * G.711 cannot carry instead of aliasing it down.  Files already at 8 kHz
 * pass through unchanged (apart from the channel mix).
 *
 * Both objects are mem objects: mem_deref() closes the file.
 */
#ifndef RINGLET_WAV_H
#define RINGLET_WAV_H

#include <stddef.h>
#include <stdint.h>

#define WAV_RATE 8000u

struct wav_reader;
struct wav_writer;

/* What a reader found in the file. */
struct wav_info {
	uint32_t rate;	   /* the file's sample rate */
	uint32_t channels; /* the file's channel count */
	uint64_t frames;   /* the file's frames (0 if libsndfile does not know) */
	uint64_t out_len;  /* 8 kHz samples the reader will deliver: ceil(frames * 8000 / rate) */
};

/*
 * Open path for reading.  Returns 0 and a reader in *out, ENOENT/EACCES
 * (cannot open), EBADMSG (not an audio file libsndfile understands, or a
 * rate outside 1000..384000 Hz or more than 64 channels) or ENOMEM.
 */
int wav_open(struct wav_reader **out, const char *path);

/* The file's format. */
void wav_info(const struct wav_reader *r, struct wav_info *info);

/*
 * Read up to n 8 kHz mono samples into out.  Returns the number written:
 * n until the end of the file, fewer (possibly 0) at the end.  A read error
 * counts as the end.
 */
size_t wav_read(struct wav_reader *r, int16_t *out, size_t n);

/* Go back to the start of the file (for looping).  Returns 0 or EIO. */
int wav_rewind(struct wav_reader *r);

/*
 * Create (or truncate) path as an 8 kHz mono 16-bit PCM WAV file.  Returns 0
 * and a writer in *out, EACCES/ENOENT/EIO (cannot create) or ENOMEM.
 */
int wav_create(struct wav_writer **out, const char *path);

/* Append n samples.  Returns 0 or EIO (short write; the file is kept as far as written). */
int wav_write(struct wav_writer *w, const int16_t *pcm, size_t n);

/* Samples written so far. */
uint64_t wav_written(const struct wav_writer *w);

/* ---- the resampler, on its own (for tests and other sources) ---- */

struct wav_rs;

/*
 * A streaming resampler from in_rate to out_rate (1000..384000 each).
 * Returns 0, EINVAL or ENOMEM.  mem_deref() frees it.
 */
int wav_rs_alloc(struct wav_rs **out, uint32_t in_rate, uint32_t out_rate);

/*
 * Feed n input samples (n may be 0) and take up to cap output samples into
 * out; with flush, the input has ended (zeros are assumed after it and
 * output stops at ceil(total_in * out_rate / in_rate)).  Input that does not
 * fit the internal window is not consumed: *used tells how much was.
 * Returns the number of output samples written.
 */
size_t wav_rs_run(struct wav_rs *rs, const float *in, size_t n, size_t *used, int16_t *out,
		  size_t cap, int flush);

#endif
