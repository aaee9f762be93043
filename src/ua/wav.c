/*
 * wav.c - audio files in and out through libsndfile, and the resampler
 * that brings any rate to 8 kHz.
 *
 * The resampler is band-limited interpolation: output sample n sits at input
 * position c = n * in_rate / out_rate, and is the sum of the input samples
 * around c weighted by a low-pass kernel centred on c, a sinc with its first
 * zero at 1 / (2 fc) input samples (fc = 0.45 * min(in, out) / in, the
 * cut-off in cycles per input sample) under a Blackman window 16 zero
 * crossings wide on each side.  The kernel is tabulated (512 points per zero
 * crossing, linear interpolation between them) and each output is divided
 * by the sum of its weights, so DC passes at exactly unity gain.  Blackman
 * keeps the stop band below about -70 dB; the transition band is about
 * 2.9 / 16 of the cut-off wide, so at 8 kHz it ends near 4.2 kHz and what
 * folds back lands above 3.8 kHz, outside the voice band.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sndfile.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "ringlet/mem.h"
#include "ringlet/wav.h"

#define ZC 16u		 /* zero crossings of the kernel on each side */
#define RES 512u	 /* table points per zero crossing */
#define TABLE (ZC * RES + 2u)
#define SLACK 4096u	 /* input window beyond the kernel's span */
#define CHUNK 4096u	 /* interleaved floats read from the file at once */
#define RATE_MIN 1000u
#define RATE_MAX 384000u
#define CH_MAX 64u

struct wav_rs {
	uint32_t p, q;	   /* in_rate / out_rate in lowest terms */
	bool pass;	   /* equal rates: copy */
	double fc2;	   /* kernel zero crossings per input sample (2 fc) */
	uint32_t half;	   /* taps on each side of the centre */
	uint64_t n;	   /* next output sample */
	uint64_t base;	   /* input index of win[0] */
	size_t fill;	   /* samples in win */
	size_t cap;	   /* size of win */
	uint64_t total;	   /* input samples taken so far */
	float *table;	   /* kernel, TABLE points */
	float *win;	   /* input window */
};

static uint32_t gcd(uint32_t a, uint32_t b)
{
	while (b) {
		uint32_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

static void fill_table(float *t)
{
	for (unsigned i = 0; i < TABLE; i++) {
		double x = (double)i / RES; /* in zero crossings */
		if (x >= ZC) {
			t[i] = 0;
			continue;
		}
		double u = x / ZC;
		double w = 0.42 + 0.5 * cos(M_PI * u) + 0.08 * cos(2 * M_PI * u);
		double s = i == 0 ? 1.0 : sin(M_PI * x) / (M_PI * x);
		t[i] = (float)(s * w);
	}
}

int wav_rs_alloc(struct wav_rs **out, uint32_t in_rate, uint32_t out_rate)
{
	if (in_rate < RATE_MIN || in_rate > RATE_MAX || out_rate < RATE_MIN ||
	    out_rate > RATE_MAX)
		return EINVAL;
	double fc = 0.45 * (in_rate < out_rate ? in_rate : out_rate) / in_rate;
	uint32_t half = (uint32_t)ceil(ZC / (2 * fc));
	size_t cap = 2u * half + SLACK;
	struct wav_rs *rs = mem_alloc(sizeof(*rs) + (TABLE + cap) * sizeof(float), NULL);
	if (!rs)
		return ENOMEM;
	uint32_t g = gcd(in_rate, out_rate);
	rs->p = in_rate / g;
	rs->q = out_rate / g;
	rs->pass = in_rate == out_rate;
	rs->fc2 = 2 * fc;
	rs->half = half;
	rs->cap = cap;
	rs->table = (float *)(rs + 1);
	rs->win = rs->table + TABLE;
	fill_table(rs->table);
	*out = rs;
	return 0;
}

static void rs_reset(struct wav_rs *rs)
{
	rs->n = rs->base = rs->total = 0;
	rs->fill = 0;
}

static int16_t to_s16(double v)
{
	v *= 32768.0;
	if (v > 32767.0)
		return 32767;
	if (v < -32768.0)
		return -32768;
	return (int16_t)lrint(v);
}

/* One output sample centred on input position ip + fr / q; win covers what it needs. */
static int16_t convolve(const struct wav_rs *rs, uint64_t ip, uint64_t fr)
{
	double c_frac = (double)fr / rs->q;
	double sum = 0, wsum = 0;
	int64_t lo = (int64_t)ip - rs->half + 1, hi = (int64_t)ip + rs->half;
	for (int64_t k = lo; k <= hi; k++) {
		double x = fabs((double)(k - (int64_t)ip) - c_frac) * rs->fc2 * RES;
		if (x >= (double)ZC * RES)
			continue;
		unsigned i = (unsigned)x;
		double w = rs->table[i] + (x - i) * (rs->table[i + 1] - rs->table[i]);
		wsum += w;
		if (k >= 0 && (uint64_t)k >= rs->base && (uint64_t)k < rs->base + rs->fill)
			sum += w * rs->win[(uint64_t)k - rs->base];
	}
	return to_s16(wsum > 0 ? sum / wsum : 0);
}

/* Drop input no later output needs (below ip - half + 1), then append from in. */
static size_t take(struct wav_rs *rs, uint64_t ip, const float *in, size_t n)
{
	uint64_t keep = ip + 1 > rs->half ? ip + 1 - rs->half : 0;
	if (keep > rs->base) {
		uint64_t drop = keep - rs->base;
		if (drop >= rs->fill) {
			rs->base += rs->fill;
			rs->fill = 0;
		} else {
			memmove(rs->win, rs->win + drop, (rs->fill - drop) * sizeof(float));
			rs->fill -= drop;
			rs->base = keep;
		}
	}
	size_t m = rs->cap - rs->fill;
	if (m > n)
		m = n;
	memcpy(rs->win + rs->fill, in, m * sizeof(float));
	rs->fill += m;
	rs->total += m;
	return m;
}

static size_t pass(struct wav_rs *rs, const float *in, size_t n, size_t *used, int16_t *out,
		   size_t cap)
{
	size_t m = n < cap ? n : cap;
	for (size_t i = 0; i < m; i++)
		out[i] = to_s16(in[i]);
	rs->total += m;
	rs->n += m;
	*used = m;
	return m;
}

size_t wav_rs_run(struct wav_rs *rs, const float *in, size_t n, size_t *used, int16_t *out,
		  size_t cap, int flush)
{
	if (rs->pass)
		return pass(rs, in, n, used, out, cap);
	size_t u = 0, nout = 0;
	while (nout < cap) {
		uint64_t pos = rs->n * rs->p;
		uint64_t ip = pos / rs->q, fr = pos % rs->q;
		bool ended = flush && u == n;
		if (ended && rs->n >= (rs->total * rs->q + rs->p - 1) / rs->p)
			break;
		if (!ended && ip + rs->half >= rs->base + rs->fill) {
			if (u == n)
				break; /* need more input */
			size_t m = take(rs, ip, in + u, n - u);
			u += m;
			if (m == 0)
				break; /* cannot happen: the window outgrows the kernel span */
			continue;
		}
		out[nout++] = convolve(rs, ip, fr);
		rs->n++;
	}
	*used = u;
	return nout;
}

/* ---- reading ---- */

struct wav_reader {
	SNDFILE *sf;
	int fd;
	SF_INFO info;
	struct wav_rs *rs;
	bool eof;
	size_t pend_off, pend_len; /* mono samples read and not yet resampled */
	float mono[CHUNK];
	float inter[CHUNK];
};

static void reader_destroy(void *p)
{
	struct wav_reader *r = p;
	if (r->sf)
		sf_close(r->sf);
	if (r->fd >= 0)
		close(r->fd);
	mem_deref(r->rs);
}

int wav_open(struct wav_reader **out, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	struct wav_reader *r = mem_alloc(sizeof(*r), reader_destroy);
	if (!r) {
		close(fd);
		return ENOMEM;
	}
	r->fd = fd;
	r->sf = sf_open_fd(fd, SFM_READ, &r->info, SF_FALSE);
	int rc = EBADMSG;
	if (!r->sf || r->info.channels < 1 || (unsigned)r->info.channels > CH_MAX ||
	    r->info.samplerate < (int)RATE_MIN || r->info.samplerate > (int)RATE_MAX)
		goto fail;
	rc = wav_rs_alloc(&r->rs, (uint32_t)r->info.samplerate, WAV_RATE);
	if (rc)
		goto fail;
	*out = r;
	return 0;
fail:
	mem_deref(r);
	return rc;
}

void wav_info(const struct wav_reader *r, struct wav_info *info)
{
	info->rate = (uint32_t)r->info.samplerate;
	info->channels = (uint32_t)r->info.channels;
	info->frames = r->info.frames > 0 ? (uint64_t)r->info.frames : 0;
	info->out_len = (info->frames * WAV_RATE + info->rate - 1) / info->rate;
}

/* Read the next chunk of frames and mix them down into mono[]. */
static void refill(struct wav_reader *r)
{
	size_t ch = (size_t)r->info.channels;
	sf_count_t want = (sf_count_t)(CHUNK / ch);
	sf_count_t got = sf_readf_float(r->sf, r->inter, want);
	if (got <= 0) {
		r->eof = true;
		return;
	}
	for (sf_count_t f = 0; f < got; f++) {
		float s = 0;
		for (size_t c = 0; c < ch; c++)
			s += r->inter[(size_t)f * ch + c];
		r->mono[f] = s / (float)ch;
	}
	r->pend_off = 0;
	r->pend_len = (size_t)got;
}

size_t wav_read(struct wav_reader *r, int16_t *out, size_t n)
{
	size_t got = 0;
	while (got < n) {
		if (r->pend_len == 0 && !r->eof)
			refill(r);
		size_t used = 0;
		size_t m = wav_rs_run(r->rs, r->mono + r->pend_off, r->pend_len, &used, out + got,
				      n - got, r->eof);
		r->pend_off += used;
		r->pend_len -= used;
		got += m;
		if (m == 0 && used == 0 && (r->eof || r->pend_len))
			break; /* the end (the second case cannot happen: the window has room) */
	}
	return got;
}

int wav_rewind(struct wav_reader *r)
{
	if (sf_seek(r->sf, 0, SEEK_SET) < 0)
		return EIO;
	rs_reset(r->rs);
	r->eof = false;
	r->pend_off = r->pend_len = 0;
	return 0;
}

/* ---- writing ---- */

struct wav_writer {
	SNDFILE *sf;
	int fd;
	uint64_t written;
};

static void writer_destroy(void *p)
{
	struct wav_writer *w = p;
	if (w->sf)
		sf_close(w->sf);
	if (w->fd >= 0)
		close(w->fd);
}

int wav_create(struct wav_writer **out, const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno;
	struct wav_writer *w = mem_alloc(sizeof(*w), writer_destroy);
	if (!w) {
		close(fd);
		return ENOMEM;
	}
	w->fd = fd;
	SF_INFO info = {.samplerate = WAV_RATE, .channels = 1,
			.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
	w->sf = sf_open_fd(fd, SFM_WRITE, &info, SF_FALSE);
	if (!w->sf) {
		mem_deref(w);
		return EIO;
	}
	/* keep the header's lengths right as we go: a killed UA leaves a playable file */
	sf_command(w->sf, SFC_SET_UPDATE_HEADER_AUTO, NULL, SF_TRUE);
	*out = w;
	return 0;
}

int wav_write(struct wav_writer *w, const int16_t *pcm, size_t n)
{
	if (n == 0)
		return 0;
	sf_count_t k = sf_write_short(w->sf, pcm, (sf_count_t)n);
	if (k > 0)
		w->written += (uint64_t)k;
	return k == (sf_count_t)n ? 0 : EIO;
}

uint64_t wav_written(const struct wav_writer *w)
{
	return w->written;
}
