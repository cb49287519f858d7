/* placeholder until pki lands */
#include "pki/pki.h"
