from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from satisfaction import services
from satisfaction.models import SurveyRound


class Command(BaseCommand):
    help = (
        "Remind now, by hand, the contacts of customers who have not answered (what the daily job does): at most "
        "SURVEY_REMINDER_MAX reminders, at least SURVEY_REMINDER_GAP_DAYS apart, only in open rounds. Prints what "
        "was queued; the outbox sends it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--round", dest="round_id", type=int, metavar="ID", help="only this round")

    def handle(self, *args, **options):
        survey_round = None
        if options["round_id"] is not None:
            survey_round = SurveyRound.objects.filter(pk=options["round_id"]).first()
            if survey_round is None:
                raise CommandError(_("There is no survey round %(id)s.") % {"id": options["round_id"]})
            if not services.round_is_open(survey_round):
                self.stdout.write(
                    _("Round %(round)s is not open (not sent, closed or past its deadline): nobody is reminded.")
                    % {"round": survey_round.name}
                )
        reminded = services.send_reminders(survey_round=survey_round)
        for invitation in reminded:
            self.stdout.write(
                "\t".join(
                    [
                        f"{invitation.round.name} (#{invitation.round_id})",
                        invitation.line.customer.code,
                        invitation.line.customer.display_name,
                        invitation.contact.name,
                        invitation.email,
                        _("reminder %(n)s") % {"n": invitation.reminders_sent},
                    ]
                )
            )
        self.stdout.write(
            ngettext("%(n)s reminder queued.", "%(n)s reminders queued.", len(reminded)) % {"n": len(reminded)}
        )
