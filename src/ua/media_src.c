/*
 * media_src.c - what a session sends (silence, a file, a tone sequence, a
 * callback) and where received audio goes (nowhere, a WAV file, a
 * callback).
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "ringlet/mem.h"
#include "ua/media_int.h"

void media_src_release(struct media_src *s)
{
	s->wav = mem_deref(s->wav);
	memset(s, 0, sizeof(*s));
	s->kind = SRC_NONE;
}

void media_sink_release(struct media_sink *s)
{
	s->wav = mem_deref(s->wav); /* closes the file: its header is final now */
	memset(s, 0, sizeof(*s));
	s->kind = SINK_NONE;
}

/* Replace the source (send_frame sets the marker if nothing was being sent). */
static void set_src(struct media *m, const struct media_src *s)
{
	media_src_release(&m->src);
	m->src = *s;
	m->eof_pending = false;
}

void media_play_silence(struct media *m)
{
	struct media_src s = {.kind = SRC_SILENCE};
	set_src(m, &s);
}

int media_play_wav(struct media *m, const char *path, enum media_eof at_end)
{
	struct media_src s = {.kind = SRC_WAV, .at_end = at_end};
	int rc = wav_open(&s.wav, path);
	if (rc)
		return rc;
	set_src(m, &s);
	return 0;
}

int media_play_tone(struct media *m, const struct media_tone *steps, unsigned n, int16_t amp,
		    enum media_eof at_end)
{
	if (n == 0 || n > MEDIA_TONE_MAX || !steps || amp < 0)
		return EINVAL;
	struct media_src s = {.kind = SRC_TONE, .at_end = at_end};
	memcpy(s.tone.steps, steps, n * sizeof(*steps));
	s.tone.n = n;
	s.tone.amp = amp;
	set_src(m, &s);
	return 0;
}

void media_play_fn(struct media *m, media_src_fn *fn, void *arg, enum media_eof at_end)
{
	struct media_src s = {.kind = SRC_FN, .at_end = at_end, .fn = fn, .arg = arg};
	set_src(m, &s);
}

void media_on_eof(struct media *m, media_eof_fn *fn, void *arg)
{
	m->eof_fn = fn;
	m->eof_arg = arg;
}

/* Up to n samples of the tone sequence; fewer when it has ended. */
static size_t tone_read(struct media_tonegen *t, int16_t *out, size_t n)
{
	size_t i = 0;
	while (i < n && t->idx < t->n) {
		const struct media_tone *st = &t->steps[t->idx];
		uint32_t len = (uint32_t)st->ms * (WAV_RATE / 1000);
		double step = 2 * M_PI * st->freq_hz / WAV_RATE;
		while (i < n && t->pos < len) {
			out[i++] = st->freq_hz ? (int16_t)lrint(t->amp * sin(t->phase)) : 0;
			t->phase += step;
			if (t->phase > 2 * M_PI)
				t->phase -= 2 * M_PI;
			t->pos++;
		}
		if (t->pos >= len) {
			t->idx++;
			t->pos = 0;
		}
	}
	return i;
}

static size_t src_once(struct media_src *s, int16_t *out, size_t n)
{
	switch (s->kind) {
	case SRC_SILENCE:
		memset(out, 0, n * sizeof(*out));
		return n;
	case SRC_WAV:
		return wav_read(s->wav, out, n);
	case SRC_TONE:
		return tone_read(&s->tone, out, n);
	case SRC_FN: {
		size_t k = s->fn(s->arg, out, n);
		return k > n ? n : k;
	}
	default:
		return 0;
	}
}

/* Back to the start of a looping source; false if it cannot. */
static bool restart(struct media_src *s)
{
	if (s->kind == SRC_WAV)
		return wav_rewind(s->wav) == 0;
	if (s->kind == SRC_TONE) {
		s->tone.idx = 0;
		s->tone.pos = 0;
		return true;
	}
	return false;
}

size_t media_src_read(struct media *m, int16_t *out, size_t n)
{
	struct media_src *s = &m->src;
	size_t got = src_once(s, out, n);
	if (got == n || s->kind == SRC_NONE)
		return got;
	/* the source has ended */
	if (s->at_end == MEDIA_EOF_LOOP && restart(s)) {
		got += src_once(s, out + got, n - got);
		return got; /* an empty file ends here: the next tick finds it empty again */
	}
	m->eof_pending = true;
	enum media_eof at_end = s->at_end;
	media_src_release(s);
	if (at_end == MEDIA_EOF_SILENCE) {
		s->kind = SRC_SILENCE;
		memset(out + got, 0, (n - got) * sizeof(*out));
		return n;
	}
	return got; /* MEDIA_EOF_STOP (or a loop that cannot restart): the rest is not sent */
}

void media_record_none(struct media *m)
{
	media_sink_release(&m->sink);
}

int media_record_wav(struct media *m, const char *path)
{
	struct wav_writer *w;
	int rc = wav_create(&w, path);
	if (rc)
		return rc;
	media_sink_release(&m->sink);
	m->sink.kind = SINK_WAV;
	m->sink.wav = w;
	return 0;
}

void media_record_fn(struct media *m, media_sink_fn *fn, void *arg)
{
	media_sink_release(&m->sink);
	m->sink.kind = SINK_FN;
	m->sink.fn = fn;
	m->sink.arg = arg;
}

void media_sink_put(struct media *m, const int16_t *pcm, size_t n)
{
	switch (m->sink.kind) {
	case SINK_WAV:
		(void)wav_write(m->sink.wav, pcm, n);
		break;
	case SINK_FN:
		m->sink.fn(m->sink.arg, pcm, n);
		break;
	default:
		break;
	}
}
