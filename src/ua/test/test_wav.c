/*
 * test_wav.c - reading audio files of any common rate, channel count and
 * sample format as 8 kHz mono (length, tone frequency and level kept,
 * channels mixed, what lies above 4 kHz removed rather than aliased),
 * the resampler on its own (unity DC gain, chunking does not matter),
 * writing 8 kHz mono 16-bit WAV files, and bad files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <sndfile.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ringlet/mem.h"
#include "ringlet/wav.h"

static char dir[64];
static size_t live_before;

static int setup(void **state)
{
	(void)state;
	live_before = mem_live();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(mem_live(), live_before);
	return 0;
}

static void path_of(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

/* Goertzel: power of frequency f (Hz) in x[0 .. n) sampled at rate. */
static double goertzel(const int16_t *x, size_t n, double f, double rate)
{
	double w = 2 * M_PI * f / rate, c = 2 * cos(w), s1 = 0, s2 = 0;
	for (size_t i = 0; i < n; i++) {
		double s = x[i] + c * s1 - s2;
		s2 = s1;
		s1 = s;
	}
	return s1 * s1 + s2 * s2 - c * s1 * s2;
}

/* Amplitude of a sine of frequency f in x (from the Goertzel power). */
static double amp_at(const int16_t *x, size_t n, double f)
{
	return 2 * sqrt(goertzel(x, n, f, WAV_RATE)) / (double)n;
}

/* Write seconds of a sine (freq, amplitude 0..1) to path; channel c gets sign[c]. */
static void write_tone(const char *path, int rate, int channels, int format, double freq,
		       double amp, double seconds, const double *sign)
{
	SF_INFO info = {.samplerate = rate, .channels = channels, .format = format};
	SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
	assert_non_null(sf);
	size_t frames = (size_t)lrint(seconds * rate);
	float *buf = malloc(frames * (size_t)channels * sizeof(float));
	assert_non_null(buf);
	for (size_t f = 0; f < frames; f++)
		for (int c = 0; c < channels; c++)
			buf[f * (size_t)channels + (size_t)c] =
				(float)(amp * (sign ? sign[c] : 1.0) * sin(2 * M_PI * freq * f / rate));
	assert_int_equal(sf_writef_float(sf, buf, (sf_count_t)frames), (sf_count_t)frames);
	free(buf);
	assert_int_equal(sf_close(sf), 0);
}

/* Read the whole of path through wav_read in odd-sized pieces. */
static size_t read_all(const char *path, int16_t *out, size_t cap, struct wav_info *info)
{
	struct wav_reader *r = NULL;
	assert_int_equal(wav_open(&r, path), 0);
	wav_info(r, info);
	size_t n = 0, k;
	while ((k = wav_read(r, out + n, cap - n < 77 ? cap - n : 77)) > 0)
		n += k;
	assert_int_equal(wav_read(r, out, 10), 0); /* stays at the end */
	mem_deref(r);
	return n;
}

struct fmt_case {
	int rate, channels, format;
	double seconds;
};

static const struct fmt_case fmts[] = {
	{44100, 2, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1.0},
	{48000, 1, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 0.5},
	{16000, 2, SF_FORMAT_WAV | SF_FORMAT_PCM_24, 0.3},
	{22050, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_U8, 0.4},
	{8000, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 0.25},
	{11025, 6, SF_FORMAT_WAV | SF_FORMAT_PCM_32, 0.2},
	{96000, 2, SF_FORMAT_AIFF | SF_FORMAT_PCM_16, 0.2},
	{6000, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 0.3}, /* up-sampling */
};

/* A 1 kHz tone at half scale in each format: length, frequency and level survive. */
static void tone_formats(void **state)
{
	(void)state;
	static int16_t out[16000];
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		const struct fmt_case *c = &fmts[i];
		char path[128];
		path_of(path, sizeof(path), "tone.wav");
		write_tone(path, c->rate, c->channels, c->format, 1000, 0.5, c->seconds, NULL);
		struct wav_info info;
		size_t n = read_all(path, out, sizeof(out) / sizeof(out[0]), &info);
		size_t frames = (size_t)lrint(c->seconds * c->rate);
		assert_int_equal(info.rate, c->rate);
		assert_int_equal(info.channels, c->channels);
		assert_int_equal(info.frames, frames);
		size_t want = (frames * 8000 + (size_t)c->rate - 1) / (size_t)c->rate;
		assert_int_equal(info.out_len, want);
		assert_int_equal(n, want);
		/* away from the edges: 1 kHz at amplitude 16384, nothing at 500 Hz or 2 kHz */
		const int16_t *mid = out + 200;
		size_t m = n - 400;
		double a = amp_at(mid, m, 1000);
		bool u8 = (c->format & SF_FORMAT_SUBMASK) == SF_FORMAT_PCM_U8;
		if (fabs(a - 16384) > 16384 * (u8 ? 0.03 : 0.01))
			fail_msg("case %zu: 1 kHz amplitude %.0f", i, a);
		assert_true(amp_at(mid, m, 500) < 16384 * 0.01);
		assert_true(amp_at(mid, m, 2000) < 16384 * 0.01);
		/* the samples follow the sine's phase: no delay added */
		for (unsigned k = 1000; k < 1008; k++)
			if (abs(out[k] - (int)lrint(16384 * sin(2 * M_PI * 1000 * k / 8000))) > 400)
				fail_msg("case %zu: sample %u is %d", i, k, out[k]);
	}
}

/* 8 kHz mono 16-bit input passes through sample for sample. */
static void passthrough(void **state)
{
	(void)state;
	char path[128];
	path_of(path, sizeof(path), "pass.wav");
	SF_INFO info = {.samplerate = 8000, .channels = 1,
			.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
	SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
	assert_non_null(sf);
	int16_t in[1000], out[1100];
	for (unsigned i = 0; i < 1000; i++)
		in[i] = (int16_t)((i * 7919) % 65536 - 32768);
	assert_int_equal(sf_write_short(sf, in, 1000), 1000);
	sf_close(sf);
	struct wav_info wi;
	assert_int_equal(read_all(path, out, 1100, &wi), 1000);
	assert_memory_equal(in, out, sizeof(in));
}

/* Channels are averaged: opposite channels cancel, and a mix of two tones keeps both. */
static void channel_mix(void **state)
{
	(void)state;
	static int16_t out[8000];
	char path[128];
	path_of(path, sizeof(path), "mix.wav");
	static const double opposite[] = {1, -1};
	write_tone(path, 44100, 2, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1000, 0.5, 0.5, opposite);
	struct wav_info info;
	size_t n = read_all(path, out, 8000, &info);
	assert_int_equal(n, 4000);
	for (size_t i = 0; i < n; i++)
		assert_true(abs(out[i]) <= 2);
	static const double one_side[] = {1, 0, 0, 0};
	write_tone(path, 32000, 4, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 1000, 0.8, 0.5, one_side);
	n = read_all(path, out, 8000, &info);
	assert_int_equal(n, 4000);
	double a = amp_at(out + 200, n - 400, 1000);
	assert_true(fabs(a - 32768 * 0.8 / 4) < 100);
}

/* A 6 kHz tone in a 44.1 kHz file would alias to 2 kHz without the low-pass. */
static void no_aliasing(void **state)
{
	(void)state;
	static int16_t out[8000];
	char path[128];
	path_of(path, sizeof(path), "alias.wav");
	write_tone(path, 44100, 1, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 6000, 0.9, 0.5, NULL);
	struct wav_info info;
	size_t n = read_all(path, out, 8000, &info);
	assert_int_equal(n, 4000);
	/* -70 dB or better relative to full input level */
	double a = amp_at(out + 200, n - 400, 2000);
	assert_true(a < 0.9 * 32768 * 0.0003);
	/* and a 2.5 kHz tone (in the pass band) is kept */
	write_tone(path, 44100, 1, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 2500, 0.5, 0.5, NULL);
	n = read_all(path, out, 8000, &info);
	a = amp_at(out + 200, n - 400, 2500);
	assert_true(fabs(a - 16384) < 16384 * 0.02);
}

static void rewind_file(void **state)
{
	(void)state;
	char path[128];
	path_of(path, sizeof(path), "rew.wav");
	write_tone(path, 44100, 2, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 440, 0.3, 0.1, NULL);
	struct wav_reader *r = NULL;
	assert_int_equal(wav_open(&r, path), 0);
	int16_t a[1000], b[1000];
	size_t na = wav_read(r, a, 1000);
	assert_int_equal(na, 800);
	assert_int_equal(wav_rewind(r), 0);
	size_t nb = wav_read(r, b, 1000);
	assert_int_equal(nb, 800);
	assert_memory_equal(a, b, na * sizeof(int16_t));
	mem_deref(r);
}

/* The resampler alone: DC passes at unity, the chunking of input and output does not matter. */
static void resampler(void **state)
{
	(void)state;
	struct wav_rs *rs = NULL;
	assert_int_equal(wav_rs_alloc(&rs, 500, 8000), EINVAL);
	assert_int_equal(wav_rs_alloc(&rs, 44100, 400000), EINVAL);
	static float in[44100];
	static int16_t one[9000], pieces[9000];
	for (unsigned i = 0; i < 44100; i++)
		in[i] = 0.25f;
	assert_int_equal(wav_rs_alloc(&rs, 44100, 8000), 0);
	size_t used, n = wav_rs_run(rs, in, 44100, &used, one, 9000, 1);
	mem_deref(rs);
	assert_int_equal(n, 8000);
	assert_int_equal(used, 44100);
	/* unity DC gain away from the edges; at the edges the silence before and
	 * after the input is part of what the filter sees */
	for (unsigned i = 0; i < n; i++) {
		if (i >= 20 && i < n - 20)
			assert_int_equal(one[i], 8192);
		else
			assert_true(one[i] > 2000 && one[i] < 9000); /* a step rings */
	}

	for (unsigned i = 0; i < 44100; i++)
		in[i] = (float)sin(i * 0.05) * 0.5f;
	assert_int_equal(wav_rs_alloc(&rs, 44100, 8000), 0);
	n = wav_rs_run(rs, in, 44100, &used, one, 9000, 1);
	mem_deref(rs);
	assert_int_equal(wav_rs_alloc(&rs, 44100, 8000), 0);
	size_t got = 0, off = 0;
	for (unsigned step = 1, rounds = 0; rounds < 100000; step = step * 3 % 1001 + 1) {
		size_t take = 44100 - off < step ? 44100 - off : step;
		bool last = off + take == 44100;
		size_t cap = step % 37 + 1;
		if (cap > 9000 - got)
			cap = 9000 - got;
		size_t k = wav_rs_run(rs, in + off, take, &used, pieces + got, cap, last);
		off += used;
		got += k;
		if (last && used == take && k == 0)
			break;
		rounds++;
	}
	mem_deref(rs);
	assert_int_equal(got, n);
	assert_memory_equal(one, pieces, n * sizeof(int16_t));
}

static void writer(void **state)
{
	(void)state;
	char path[128];
	path_of(path, sizeof(path), "rec.wav");
	struct wav_writer *w = NULL;
	assert_int_equal(wav_create(&w, path), 0);
	int16_t buf[480];
	for (unsigned i = 0; i < 480; i++)
		buf[i] = (int16_t)(i * 60 - 14000);
	for (unsigned k = 0; k < 10; k++)
		assert_int_equal(wav_write(w, buf, 480), 0);
	assert_int_equal(wav_write(w, buf, 0), 0);
	assert_int_equal(wav_written(w), 4800);
	mem_deref(w);
	SF_INFO info;
	memset(&info, 0, sizeof(info));
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	assert_non_null(sf);
	assert_int_equal(info.samplerate, 8000);
	assert_int_equal(info.channels, 1);
	assert_int_equal(info.format, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
	assert_int_equal(info.frames, 4800);
	int16_t back[480];
	assert_int_equal(sf_read_short(sf, back, 480), 480);
	assert_memory_equal(back, buf, sizeof(buf));
	sf_close(sf);
	/* a directory that does not exist */
	assert_int_equal(wav_create(&w, "/nonexistent-dir/x.wav"), ENOENT);
}

static void bad_files(void **state)
{
	(void)state;
	struct wav_reader *r = NULL;
	char path[128];
	assert_int_equal(wav_open(&r, "/nonexistent-dir/none.wav"), ENOENT);
	path_of(path, sizeof(path), "text.wav");
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("RIFF....WAVEfmt this is not audio at all, just text\n", f);
	fclose(f);
	assert_int_equal(wav_open(&r, path), EBADMSG);
	/* an empty file */
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(wav_open(&r, path), EBADMSG);
	/* a valid header with no samples reads as empty */
	path_of(path, sizeof(path), "empty.wav");
	write_tone(path, 44100, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1000, 0.5, 0, NULL);
	assert_int_equal(wav_open(&r, path), 0);
	int16_t out[10];
	assert_int_equal(wav_read(r, out, 10), 0);
	mem_deref(r);
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/ringlet-wav-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	static const char *const names[] = {"tone.wav", "pass.wav", "mix.wav", "alias.wav",
					    "rew.wav",	"rec.wav",  "text.wav", "empty.wav"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[128];
		path_of(path, sizeof(path), names[i]);
		unlink(path);
	}
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(tone_formats, setup, teardown),
		cmocka_unit_test_setup_teardown(passthrough, setup, teardown),
		cmocka_unit_test_setup_teardown(channel_mix, setup, teardown),
		cmocka_unit_test_setup_teardown(no_aliasing, setup, teardown),
		cmocka_unit_test_setup_teardown(rewind_file, setup, teardown),
		cmocka_unit_test_setup_teardown(resampler, setup, teardown),
		cmocka_unit_test_setup_teardown(writer, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_files, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
