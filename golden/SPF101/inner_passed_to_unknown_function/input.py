"""Session bookkeeping with an exit hook."""
import atexit

SESSIONS = []


def start_session(name):
    def goodbye():
        print("session closed")

    atexit.register(goodbye)
    SESSIONS.append(name)
    return len(SESSIONS)
