/* Compiles the public header as strict C99 and checks that the initialisers are usable from C. */
#include "circleloss/circleloss.h"

int circleloss_header_c99_check(void);
int circleloss_header_c99_check(void) {
    circleloss_options options = CIRCLELOSS_OPTIONS_INIT;
    circleloss_problem problem = CIRCLELOSS_PROBLEM_INIT;
    circleloss_session_config config = CIRCLELOSS_SESSION_CONFIG_INIT;
    circleloss_forward_output forward = CIRCLELOSS_FORWARD_OUTPUT_INIT;
    circleloss_gradient_output gradient = CIRCLELOSS_GRADIENT_OUTPUT_INIT;
    return (int)(options.struct_size + problem.struct_size + config.struct_size + forward.struct_size +
                 gradient.struct_size);
}
