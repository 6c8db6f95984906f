/* pjproject compile-time configuration for the Callbox appliance.
 *
 * Sized for a small office box: up to 250 bridged and recorded calls (500 call legs), each
 * bridged call taking three conference-bridge ports (two legs and a recorder), plus one player
 * per waiting caller. The engine's admission control refuses calls before any of these limits
 * is reached: exceeding them aborts PJSIP, and with it every live call.
 */
#define PJ_IOQUEUE_MAX_HANDLES      1024
#define PJSUA_MAX_CALLS             512
#define PJSUA_MAX_ACC               32
#define PJSUA_MAX_CONF_PORTS        1100
#define PJSUA_MAX_RECORDERS         512
#define PJSUA_MAX_PLAYERS           512

/* USB headsets are ALSA devices. */
#define PJMEDIA_AUDIO_DEV_HAS_ALSA  1
#define PJMEDIA_AUDIO_DEV_HAS_PORTAUDIO 0

/* TLS with the system's OpenSSL 3; SRTP for carriers that offer it. */
#define PJ_HAS_SSL_SOCK             1
#define PJMEDIA_HAS_SRTP            1

/* Audio only. pjsua's call table is zeroed at start-up and its size is dominated by the
 * per-call media slots, which pjsua sizes by PJMEDIA_MAX_SDP_MEDIA (16 by default: 155 KB a
 * call, 80 MB for 512 calls). Four m-lines cover audio, a declined video and T.38. */
#define PJMEDIA_HAS_VIDEO           0
#define PJMEDIA_MAX_SDP_MEDIA       4

/* Many calls: keep per-call memory small. */
#define PJSIP_MAX_TSX_COUNT         (16 * 1024 - 1)
#define PJSIP_MAX_DIALOG_COUNT      (16 * 1024 - 1)
#define PJ_LOG_MAX_LEVEL            5
